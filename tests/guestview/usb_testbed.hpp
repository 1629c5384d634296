// Fake USB devices for tests, on umockdev: a testbed (a temporary sysfs with udev's properties)
// that a process started with child_environment() sees instead of the host's, with udev events
// sent to every udev monitor opened under it. The process holding the testbed needs no preload
// (it keeps the real /sys: libvirt and QEMU work as usual); an in-process UsbWatcher does need
// it (meson's env: LD_PRELOAD=libumockdev-preload.so.0; see preload_loaded()).
// A process under the preload sees none of the real /sys: libvirt there cannot start a guest
// ("Failed to create v1 controller cpu for group"), so the shell's libvirt agent must not
// inherit LD_PRELOAD and UMOCKDEV_DIR.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace phyllome::test {

struct UsbFake {
    std::uint16_t vendor = 0x0781;
    std::uint16_t product = 0x5581;
    std::string serial;          // the serial sysattr; none when empty
    std::string vendor_name;     // the hwdb's ID_VENDOR_FROM_DATABASE; none when empty
    std::string product_name;    // the hwdb's ID_MODEL_FROM_DATABASE; none when empty
    std::string manufacturer;    // the device's own strings (sysattrs); none when empty
    std::string product_string;
    std::string interfaces = ":080650:"; // ID_USB_INTERFACES; none when empty
    bool interfaces_as_children = false; // instead: one usb_interface child per triple, no property
    std::string device_class = "00";     // bDeviceClass; "09" is a hub
    std::string seat;                    // ID_SEAT; none when empty
    int bus = 1;
    int address = 2;
    std::string sysname = "1-1"; // the port path: unique within the testbed
};

class UsbTestbed {
public:
    UsbTestbed();
    ~UsbTestbed();
    UsbTestbed(const UsbTestbed&) = delete;
    UsbTestbed& operator=(const UsbTestbed&) = delete;

    // Whether umockdev's preload is installed, for a child (tests GTEST_SKIP without it).
    static bool preload_available();
    // Whether this process runs with it loaded: needed to watch the testbed in-process.
    static bool preload_loaded();

    // Adds the device (sysattrs and udev properties) and sends "add"; returns its syspath.
    std::string add(const UsbFake& fake);
    // Adds the device without any uevent: one present before the watcher starts.
    std::string add_quietly(const UsbFake& fake);
    // Sends "change" (after set_property) or any other action for a device.
    void uevent(const std::string& syspath, const std::string& action);
    void set_property(const std::string& syspath, const std::string& name, const std::string& value);
    void set_attribute(const std::string& syspath, const std::string& name, const std::string& value);
    // Sends "remove", then removes the device.
    void remove(const std::string& syspath);

    // The testbed's root: UMOCKDEV_DIR for a child process.
    std::string dir() const;
    // "LD_PRELOAD=libumockdev-preload.so.0", "UMOCKDEV_DIR=...", and ASAN_OPTIONS (this process's)
    // plus verify_asan_link_order=0 (the preload comes before ASan's runtime): what a child
    // needs in its environment to see this testbed.
    std::vector<std::string> child_environment() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

} // namespace phyllome::test
