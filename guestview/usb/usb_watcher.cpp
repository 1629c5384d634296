#include "guestview/usb/usb_watcher.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "config/log.hpp"
#include "guestview/event_source.hpp"
#include "guestview/usb/usb_udev.hpp"

namespace phyllome::guestview::usb {
namespace {

class UdevUsbWatcher final : public UsbWatcher {
public:
    UdevUsbWatcher(Callbacks callbacks, UdevPtr context, UdevMonitorPtr monitor)
        : callbacks_(std::move(callbacks)), udev_(std::move(context)), monitor_(std::move(monitor)) {}

    bool start(wl_event_loop* loop, std::string& error) {
        source_.reset(wl_event_loop_add_fd(loop, udev_monitor_get_fd(monitor_.get()), WL_EVENT_READABLE,
                                           &UdevUsbWatcher::on_readable, this));
        if (!source_) {
            error = "cannot watch the udev monitor on the event loop";
            return false;
        }
        list_present();
        return true;
    }

    const std::vector<UsbDevice>& devices() const override { return devices_; }

    const UsbDevice* find(std::string_view sysname) const override {
        auto it = std::find_if(devices_.begin(), devices_.end(),
                               [&](const UsbDevice& device) { return device.sysname == sysname; });
        return it == devices_.end() ? nullptr : &*it;
    }

private:
    // Present at start: listed by sysname, without callbacks. No /sys/bus/usb lists nothing.
    void list_present() { devices_ = scan(); }

    std::vector<UsbDevice> scan() {
        std::vector<UsbDevice> found;
        UdevEnumeratePtr enumerate(udev_enumerate_new(udev_.get()));
        if (!enumerate || udev_enumerate_add_match_subsystem(enumerate.get(), "usb") < 0 ||
            udev_enumerate_add_match_property(enumerate.get(), "DEVTYPE", "usb_device") < 0 ||
            udev_enumerate_scan_devices(enumerate.get()) < 0) {
            log::debug("usb: cannot list the USB devices present; none listed");
            return found;
        }
        udev_list_entry* entry = nullptr;
        udev_list_entry_foreach(entry, udev_enumerate_get_list_entry(enumerate.get())) {
            UdevDevicePtr device(udev_device_new_from_syspath(udev_.get(), udev_list_entry_get_name(entry)));
            if (!device)
                continue;
            if (std::optional<UsbDevice> usb = read_usb_device(udev_.get(), device.get()))
                found.push_back(std::move(*usb));
        }
        std::sort(found.begin(), found.end(), [](const UsbDevice& a, const UsbDevice& b) { return a.sysname < b.sysname; });
        return found;
    }

    // The kernel dropped events (the socket's buffer overflowed: a hub with many devices at once):
    // the list is read again and the difference reported as unplugs and plugs.
    void resync() {
        log::warn("usb: udev events were lost; listing the USB devices again");
        const std::vector<UsbDevice> now = scan();
        std::weak_ptr<bool> alive = alive_;
        for (const UsbDevice& was : std::vector<UsbDevice>(devices_)) {
            if (std::ranges::find(now, was) != now.end())
                continue;
            std::erase(devices_, was);
            notify(callbacks_.removed, was);
            if (alive.expired())
                return;
        }
        for (const UsbDevice& device : now) {
            if (std::ranges::find(devices_, device) != devices_.end())
                continue;
            devices_.push_back(device);
            notify(callbacks_.added, device);
            if (alive.expired())
                return;
        }
    }

    static int on_readable(int, std::uint32_t, void* data) {
        static_cast<UdevUsbWatcher*>(data)->receive_all();
        return 0;
    }

    void receive_all() {
        // A callback may destroy this watcher: stop reading then.
        std::weak_ptr<bool> alive = alive_;
        while (!alive.expired()) {
            errno = 0;
            UdevDevicePtr event(udev_monitor_receive_device(monitor_.get()));
            if (!event) {
                if (errno == ENOBUFS)
                    resync();
                return;
            }
            handle(event.get());
        }
    }

    void handle(udev_device* event) {
        std::string_view action = udev_device_get_action(event) ? udev_device_get_action(event) : "";
        std::string sysname = udev_device_get_sysname(event) ? udev_device_get_sysname(event) : "";
        auto listed = std::find_if(devices_.begin(), devices_.end(),
                                   [&](const UsbDevice& device) { return device.sysname == sysname; });
        if (action == "remove") {
            if (listed == devices_.end())
                return;
            UsbDevice gone = std::move(*listed);
            devices_.erase(listed);
            log::info("usb: {} ({}) unplugged from {}", gone.name(), gone.id(), gone.sysname);
            notify(callbacks_.removed, gone);
            return;
        }
        if (action != "add" && action != "change" && action != "bind")
            return;
        // An event carries only what udev sent; the device read afresh has its database entry.
        UdevDevicePtr fresh(udev_device_new_from_syspath(udev_.get(), udev_device_get_syspath(event)));
        std::optional<UsbDevice> device = read_usb_device(udev_.get(), fresh ? fresh.get() : event);
        if (!device)
            return;
        if (listed != devices_.end()) {
            if (action == "add" && listed->address != device->address) {
                // A new plug in the same port whose remove we missed: the old one is gone.
                UsbDevice gone = std::move(*listed);
                devices_.erase(listed);
                std::weak_ptr<bool> alive = alive_;
                notify(callbacks_.removed, gone);
                if (alive.expired())
                    return;
            } else {
                *listed = std::move(*device); // names or kinds known later: no new `added`
                return;
            }
        }
        devices_.push_back(*device);
        log::info("usb: {} ({}, {}) plugged in at {}", device->name(), device->id(), describe_kinds(device->kinds),
                  device->sysname);
        notify(callbacks_.added, *device);
    }

    // Calls a copy: the callback may destroy this watcher, and with it the original.
    static void notify(const std::function<void(const UsbDevice&)>& callback, const UsbDevice& device) {
        if (std::function<void(const UsbDevice&)> call = callback)
            call(device);
    }

    Callbacks callbacks_;
    UdevPtr udev_;
    UdevMonitorPtr monitor_;
    EventSourcePtr source_;
    std::vector<UsbDevice> devices_;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

} // namespace

std::unique_ptr<UsbWatcher> UsbWatcher::create(wl_event_loop* loop, Callbacks callbacks, std::string& error) {
    UdevPtr context(udev_new());
    if (!context) {
        error = fmt::format("cannot use udev: {}", std::strerror(errno));
        return nullptr;
    }
    UdevMonitorPtr monitor(udev_monitor_new_from_netlink(context.get(), "udev"));
    if (!monitor) {
        error = "cannot open a udev monitor (netlink)";
        return nullptr;
    }
    // Room for a hub's worth of events at once; a loss beyond that is caught by resync().
    udev_monitor_set_receive_buffer_size(monitor.get(), 1 << 20);
    if (udev_monitor_filter_add_match_subsystem_devtype(monitor.get(), "usb", "usb_device") < 0 ||
        udev_monitor_enable_receiving(monitor.get()) < 0) {
        error = "cannot start receiving udev's USB events";
        return nullptr;
    }
    auto watcher = std::make_unique<UdevUsbWatcher>(std::move(callbacks), std::move(context), std::move(monitor));
    if (!watcher->start(loop, error))
        return nullptr;
    return watcher;
}

} // namespace phyllome::guestview::usb
