// Who holds each host USB device (issue 18): offered to the shown guest when plugged in, given
// with Host+U (or phyllomectl, or the guest card), given by itself when the policy says so, and
// taken back by Host+U again, by `usb detach`, when the guest stops or when it is unplugged.
// Pure logic: the server carries out the actions it returns (libvirt calls through the
// inventory, notices) and tells it how they ended, so every case is a unit test.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "guestview/guest_inventory.hpp"
#include "guestview/usb/usb_device.hpp"
#include "guestview/usb/usb_policy.hpp"

namespace phyllome::compositor {

// What the handover looks at: the devices plugged in, the guests and the one on screen.
struct UsbWorld {
    const std::vector<guestview::usb::UsbDevice>& devices;
    const std::vector<guestview::GuestInfo>& guests;
    std::string shown; // empty: the overlay (or a host window) is on screen
};

struct UsbAction {
    enum class Kind { Attach, Detach, Notice };
    Kind kind = Kind::Notice;
    std::string guest;                  // Attach/Detach: whose; Notice: the guest it is about
    guestview::usb::UsbDevice device;   // Attach/Detach
    std::string text;                   // Notice: in the overlay, the log and phyllomectl's answer
    std::string banner;                 // Notice: over the guest when shorter than `text`; empty: `text`
    bool error = false;                 // Notice
    bool operator==(const UsbAction&) const = default;
};

class UsbHandover {
public:
    using Clock = std::chrono::steady_clock;
    using Device = guestview::usb::UsbDevice;
    using Actions = std::vector<UsbAction>;

    // `chord` names Host+U in notices ("Super+U"); empty: no chord is bound.
    UsbHandover(guestview::usb::UsbPolicy policy, std::string chord);
    void set_policy(guestview::usb::UsbPolicy policy, std::string chord);

    Actions plugged(const Device& device, const UsbWorld& world);
    Actions unplugged(const Device& device, const UsbWorld& world);
    // Guests started, stopped or changed their devices: the policy for a guest that started,
    // a notice for a device a stopped guest gave back.
    Actions guests_changed(const UsbWorld& world);
    // Host+U: gives the device offered last to the shown guest, or takes it back.
    Actions chord(const UsbWorld& world, Clock::time_point now);
    // phyllomectl usb attach / the guest card. `confirmed`: an ask-first kind may go.
    Actions give(const Device& device, const std::string& guest, const UsbWorld& world, bool confirmed);
    Actions take_back(const Device& device, const UsbWorld& world);
    Actions attach_done(const std::string& guest, const Device& device, bool ok, const std::string& error);
    Actions detach_done(const std::string& guest, const Device& device, bool ok, const std::string& error,
                        const UsbWorld& world);

    // The guest holding it (its live XML), else the one it is being given to; empty: the host.
    std::string owner(const Device& device, const UsbWorld& world) const;
    // "giving", "taking back" or empty, while a call for it is under way.
    std::string busy(const Device& device) const;
    // The device Host+U acts on (sysname), empty when none; the overlay's rows pick one.
    const std::string& offered() const { return offered_; }
    void offer(std::string sysname) { offered_ = std::move(sysname); }
    // "always win11", "never", "ask first", or empty: what the policy says of it.
    std::string policy_note(const Device& device) const;
    const guestview::usb::UsbPolicy& policy() const { return policy_; }

    static constexpr std::chrono::seconds confirm_window{5};

private:
    struct Pending {
        bool attach = true;
        std::string guest;
        std::string then_attach_to; // a detach that moves it to another guest
        bool quiet = false;         // unplugged: no notice when it ends
        std::string policy;         // given by the policy: which part of it ("[usb] rule 0781:5581")
    };
    Actions attach(const Device& device, const std::string& guest, std::string policy = {});
    Pending take_pending(const std::string& sysname); // the call for it ended
    Actions detach(const Device& device, const std::string& guest, std::string then_attach_to, bool quiet);
    std::string holder(const Device& device, const UsbWorld& world) const; // live XML only

    guestview::usb::UsbPolicy policy_;
    std::string chord_;
    std::string offered_;
    std::string confirming_;
    Clock::time_point confirming_since_{};
    std::map<std::string, Pending> pending_;          // by sysname
    std::map<std::string, std::string> last_holder_;  // by sysname: whose it was at the last look
    std::map<std::string, int> seen_running_;         // guest -> domain id, to spot a start
    std::set<std::pair<std::string, std::string>> tried_; // (guest@domain id, sysname@address) given by policy
};

// The guest's choices with the one for `match` replaced: Always, Never, or removed (Forget).
enum class UsbRemember { Always, Never, Forget };
std::vector<guestview::usb::UsbChoice> with_choice(std::vector<guestview::usb::UsbChoice> choices,
                                                   const guestview::usb::UsbMatch& match, UsbRemember what);

// A device named on the command line: its sysname ("1-2"), id ("0781:5581", the first such),
// serial, or name (case-insensitive).
const guestview::usb::UsbDevice* find_usb_device(const std::vector<guestview::usb::UsbDevice>& devices,
                                                 const std::string& spec);

} // namespace phyllome::compositor
