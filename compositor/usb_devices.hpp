// The host's USB devices in the running shell: watches them (UsbWatcher), decides who gets
// which (UsbHandover) and carries that out through the inventory's libvirt calls, telling the
// user through the host's notices. No wlroots: the server gives it the loop and the inventory.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <wayland-server-core.h>

#include "compositor/usb_handover.hpp"
#include "compositor/usb_status.hpp"
#include "config/config.hpp"
#include "guestview/guest_inventory.hpp"
#include "guestview/usb/usb_watcher.hpp"

namespace phyllome::compositor {

class UsbDevices {
public:
    class Host {
    public:
        virtual ~Host() = default;
        virtual std::string usb_shown_guest() const = 0;
        // A notice about `guest` (empty: about the host): `banner` (else `text`) over that guest
        // if it is on screen, `text` in the overlay.
        virtual void usb_notice(const std::string& guest, const std::string& text, bool error,
                                const std::string& banner = {}) = 0;
        virtual void usb_changed() = 0; // the list or an owner changed: the overlay follows
    };
    using Reply = std::function<void(bool ok, std::string text)>;

    // `chord` names the host chord in notices ("Super+U"), empty when none is bound.
    UsbDevices(wl_event_loop* loop, guestview::GuestInventory& inventory, Host& host, const config::UsbConfig& config,
               std::string chord);
    ~UsbDevices();
    UsbDevices(const UsbDevices&) = delete;
    UsbDevices& operator=(const UsbDevices&) = delete;

    void reconfigure(const config::UsbConfig& config, std::string chord);
    void guests_changed(); // the inventory's guests changed
    // Host+U, for the shown guest or (the overlay's U) `guest`.
    void chord(const std::string& guest = "");
    // The overlay's device row: Host+U's toggle on that device for `guest`.
    void toggle(const std::string& sysname, const std::string& guest);

    // phyllomectl and the guest card. `reply` runs once the libvirt call ended, or at once when
    // refused; the text is what the user reads.
    void give(const std::string& spec, const std::string& guest, bool force, Reply reply);
    void take_back(const std::string& spec, Reply reply);
    void remember(const std::string& spec, const std::string& guest, UsbRemember what, Reply reply);

    using Entry = UsbEntry;
    std::vector<Entry> list() const;
    // Why the devices cannot be watched (udev failed), or empty.
    const std::string& problem() const { return problem_; }

private:
    UsbWorld world() const;
    void run(UsbHandover::Actions actions);
    void plugged(const guestview::usb::UsbDevice& device);
    void unplugged(const guestview::usb::UsbDevice& device);
    void finish_reply(const std::string& sysname, bool ok, const std::string& text);
    // phyllomectl's give and take back: find the device, let `decide` act, answer when it ends.
    void submit(const std::string& spec, Reply reply,
                const std::function<UsbHandover::Actions(const guestview::usb::UsbDevice&, const UsbWorld&)>& decide);
    void guests_changed_for(const std::string& spec, const std::string& guest); // a new "always"

    guestview::GuestInventory& inventory_;
    Host& host_;
    UsbHandover handover_;
    std::unique_ptr<guestview::usb::UsbWatcher> watcher_;
    std::vector<guestview::usb::UsbDevice> no_devices_;
    std::string problem_;
    std::map<std::string, Reply> replies_; // by sysname: phyllomectl waiting for the call's end
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

} // namespace phyllome::compositor
