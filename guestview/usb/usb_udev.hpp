// libudev's handles as owning pointers, and a UsbDevice read from a udev device: the watcher's
// udev side, apart from its event loop side.
#pragma once

#include <memory>
#include <optional>

#include <libudev.h>

#include "guestview/usb/usb_device.hpp"

namespace phyllome::guestview::usb {

struct UdevUnref {
    void operator()(udev* handle) const { udev_unref(handle); }
    void operator()(udev_monitor* handle) const { udev_monitor_unref(handle); }
    void operator()(udev_device* handle) const { udev_device_unref(handle); }
    void operator()(udev_enumerate* handle) const { udev_enumerate_unref(handle); }
};
using UdevPtr = std::unique_ptr<udev, UdevUnref>;
using UdevMonitorPtr = std::unique_ptr<udev_monitor, UdevUnref>;
using UdevDevicePtr = std::unique_ptr<udev_device, UdevUnref>;
using UdevEnumeratePtr = std::unique_ptr<udev_enumerate, UdevUnref>;

// Kinds from udev's ID_USB_INTERFACES (":030101:080650:"); 0 when it names none.
UsbKinds kinds_from_interfaces(std::string_view interfaces);
// One interface's kind from its class, subclass and protocol.
UsbKinds kind_of_interface(unsigned klass, unsigned subclass, unsigned protocol);

// The device as the shell lists it; nullopt for hubs, root hubs, interfaces and devices whose
// ids cannot be read (gone already).
std::optional<UsbDevice> read_usb_device(udev* context, udev_device* device);

} // namespace phyllome::guestview::usb
