#include "tests/guestview/usb_testbed.hpp"
#include "tests/guestview/udev_event_sender.hpp"

#include <dlfcn.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string_view>

#include <fmt/format.h>
#include <umockdev.h>

namespace phyllome::test {
namespace {

constexpr const char* preload_library = "libumockdev-preload.so.0";

struct GObjectUnref {
    void operator()(UMockdevTestbed* testbed) const { g_object_unref(testbed); }
};
struct GFree {
    void operator()(gchar* text) const { g_free(text); }
};
using GString_ = std::unique_ptr<gchar, GFree>;

std::string take_string(gchar* text) {
    GString_ owned(text);
    return owned ? std::string(owned.get()) : std::string();
}

// A NULL-terminated array of C strings over `items`, as umockdev_testbed_add_devicev takes.
std::vector<gchar*> c_strings(std::vector<std::string>& items) {
    std::vector<gchar*> pointers;
    for (std::string& item : items)
        pointers.push_back(item.data());
    pointers.push_back(nullptr);
    return pointers;
}

void add_pair(std::vector<std::string>& list, std::string name, std::string value) {
    if (value.empty())
        return;
    list.push_back(std::move(name));
    list.push_back(std::move(value));
}

} // namespace

struct UsbTestbed::Impl {
    std::unique_ptr<UMockdevTestbed, GObjectUnref> testbed{umockdev_testbed_new()};
    std::uint64_t seqnum = 0;
};

UsbTestbed::UsbTestbed() : impl_(std::make_unique<Impl>()) {
    if (!impl_->testbed)
        throw std::runtime_error("umockdev_testbed_new failed");
}

UsbTestbed::~UsbTestbed() = default;

bool UsbTestbed::preload_loaded() {
    // umockdev_in_mock_environment() also wants UMOCKDEV_DIR, set only once a testbed exists.
    void* preload = dlopen(preload_library, RTLD_LAZY | RTLD_NOLOAD);
    if (!preload)
        return false;
    dlclose(preload);
    return true;
}

bool UsbTestbed::preload_available() {
    if (preload_loaded())
        return true;
    // Installed beside libumockdev, which this program links.
    Dl_info library{};
    if (!dladdr(reinterpret_cast<void*>(&umockdev_testbed_new), &library) || !library.dli_fname)
        return false;
    std::filesystem::path beside = std::filesystem::path(library.dli_fname).parent_path() / preload_library;
    return access(beside.c_str(), R_OK) == 0;
}

std::string UsbTestbed::add_quietly(const UsbFake& fake) {
    std::vector<std::string> attributes;
    add_pair(attributes, "idVendor", fmt::format("{:04x}", fake.vendor));
    add_pair(attributes, "idProduct", fmt::format("{:04x}", fake.product));
    add_pair(attributes, "busnum", std::to_string(fake.bus));
    add_pair(attributes, "devnum", std::to_string(fake.address));
    add_pair(attributes, "bDeviceClass", fake.device_class);
    add_pair(attributes, "serial", fake.serial);
    add_pair(attributes, "manufacturer", fake.manufacturer);
    add_pair(attributes, "product", fake.product_string);
    std::vector<std::string> properties;
    add_pair(properties, "DEVTYPE", "usb_device");
    add_pair(properties, "BUSNUM", fmt::format("{:03}", fake.bus));
    add_pair(properties, "DEVNUM", fmt::format("{:03}", fake.address));
    add_pair(properties, "PRODUCT", fmt::format("{:x}/{:x}/100", fake.vendor, fake.product));
    add_pair(properties, "ID_VENDOR_FROM_DATABASE", fake.vendor_name);
    add_pair(properties, "ID_MODEL_FROM_DATABASE", fake.product_name);
    add_pair(properties, "ID_SEAT", fake.seat);
    if (!fake.interfaces_as_children)
        add_pair(properties, "ID_USB_INTERFACES", fake.interfaces);
    std::vector<gchar*> attribute_array = c_strings(attributes);
    std::vector<gchar*> property_array = c_strings(properties);
    std::string syspath = take_string(umockdev_testbed_add_devicev(
        impl_->testbed.get(), "usb", fake.sysname.c_str(), nullptr, attribute_array.data(), property_array.data()));
    if (syspath.empty())
        throw std::runtime_error(fmt::format("umockdev could not add USB device {}", fake.sysname));

    if (fake.interfaces_as_children) {
        // ":030101:030102:" → 1-1:1.0 and 1-1:1.1, each with its class files.
        int number = 0;
        std::string_view rest = fake.interfaces;
        while (!rest.empty()) {
            std::size_t colon = rest.find(':');
            std::string triple(rest.substr(0, colon));
            rest = colon == std::string_view::npos ? std::string_view() : rest.substr(colon + 1);
            if (triple.size() != 6)
                continue;
            std::vector<std::string> child_attributes{"bInterfaceClass", triple.substr(0, 2), "bInterfaceSubClass",
                                                      triple.substr(2, 2), "bInterfaceProtocol", triple.substr(4, 2)};
            std::vector<std::string> child_properties{"DEVTYPE", "usb_interface"};
            std::vector<gchar*> child_attribute_array = c_strings(child_attributes);
            std::vector<gchar*> child_property_array = c_strings(child_properties);
            std::string name = fmt::format("{}:1.{}", fake.sysname, number++);
            take_string(umockdev_testbed_add_devicev(impl_->testbed.get(), "usb", name.c_str(), syspath.c_str(),
                                                     child_attribute_array.data(), child_property_array.data()));
        }
    }
    return syspath;
}

std::string UsbTestbed::add(const UsbFake& fake) {
    std::string syspath = add_quietly(fake);
    uevent(syspath, "add");
    return syspath;
}

void UsbTestbed::uevent(const std::string& syspath, const std::string& action) {
    send_udev_event(dir(), syspath, action, ++impl_->seqnum);
}

void UsbTestbed::set_property(const std::string& syspath, const std::string& name, const std::string& value) {
    umockdev_testbed_set_property(impl_->testbed.get(), syspath.c_str(), name.c_str(), value.c_str());
}

void UsbTestbed::set_attribute(const std::string& syspath, const std::string& name, const std::string& value) {
    umockdev_testbed_set_attribute(impl_->testbed.get(), syspath.c_str(), name.c_str(), value.c_str());
}

void UsbTestbed::remove(const std::string& syspath) {
    uevent(syspath, "remove");
    umockdev_testbed_remove_device(impl_->testbed.get(), syspath.c_str());
}

std::string UsbTestbed::dir() const { return take_string(umockdev_testbed_get_root_dir(impl_->testbed.get())); }

std::vector<std::string> UsbTestbed::child_environment() const {
    std::vector<std::string> environment{fmt::format("LD_PRELOAD={}", preload_library), "UMOCKDEV_DIR=" + dir()};
    // Ignored by a child built without ASan; one built with it would refuse the preload first.
    const char* asan = std::getenv("ASAN_OPTIONS");
    environment.push_back(fmt::format("ASAN_OPTIONS={}{}verify_asan_link_order=0", asan ? asan : "",
                                      asan && *asan ? ":" : ""));
    return environment;
}

} // namespace phyllome::test
