// Watches the host's USB devices with libudev: the ones present at start and hot-plug, on the
// shell's wl_event_loop (the udev monitor's fd; no thread, no polling).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <wayland-server-core.h>

#include "guestview/usb/usb_device.hpp"

namespace phyllome::guestview::usb {

class UsbWatcher {
public:
    struct Callbacks {
        std::function<void(const UsbDevice&)> added;   // plugged in (not for those present at start)
        std::function<void(const UsbDevice&)> removed; // unplugged; the device as it was listed
    };
    // Lists the devices present (devices() has them on return, no callback for them) and starts
    // watching. nullptr and `error` set when udev cannot be used at all; a host without USB
    // (no /sys/bus/usb) is not an error: the list is empty. Callbacks run inside the loop's
    // dispatch, never inside a call to this object.
    static std::unique_ptr<UsbWatcher> create(wl_event_loop* loop, Callbacks callbacks, std::string& error);
    virtual ~UsbWatcher() = default;

    // In plug order (those present at start by sysname).
    virtual const std::vector<UsbDevice>& devices() const = 0;
    virtual const UsbDevice* find(std::string_view sysname) const = 0;
};

} // namespace phyllome::guestview::usb
