#include "guestview/usb/usb_udev.hpp"

#include <charconv>
#include <string>

namespace phyllome::guestview::usb {
namespace {

std::string_view text_or_empty(const char* text) { return text ? std::string_view(text) : std::string_view(); }

std::string trimmed(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\n' || text.front() == '\t'))
        text.remove_prefix(1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\n' || text.back() == '\t'))
        text.remove_suffix(1);
    return std::string(text);
}

std::string_view sysattr(udev_device* device, const char* name) {
    return text_or_empty(udev_device_get_sysattr_value(device, name));
}

std::string_view property(udev_device* device, const char* name) {
    return text_or_empty(udev_device_get_property_value(device, name));
}

std::optional<unsigned> parse_number(std::string_view text, int base) {
    std::string clean = trimmed(text);
    unsigned value = 0;
    auto [end, error] = std::from_chars(clean.data(), clean.data() + clean.size(), value, base);
    if (clean.empty() || error != std::errc() || end != clean.data() + clean.size())
        return std::nullopt;
    return value;
}

// The first of the hwdb's name and the device's own string that is not empty.
std::string pick_name(udev_device* device, const char* hwdb_property, const char* own_sysattr) {
    std::string name = trimmed(property(device, hwdb_property));
    return name.empty() ? trimmed(sysattr(device, own_sysattr)) : name;
}

// Kinds from the interface devices under `device`, for when udev has no ID_USB_INTERFACES.
UsbKinds kinds_from_children(udev* context, udev_device* device) {
    UdevEnumeratePtr children(udev_enumerate_new(context));
    if (!children || udev_enumerate_add_match_parent(children.get(), device) < 0 ||
        udev_enumerate_add_match_subsystem(children.get(), "usb") < 0 || udev_enumerate_scan_devices(children.get()) < 0)
        return 0;
    UsbKinds kinds = 0;
    udev_list_entry* entry = nullptr;
    udev_list_entry_foreach(entry, udev_enumerate_get_list_entry(children.get())) {
        UdevDevicePtr child(udev_device_new_from_syspath(context, udev_list_entry_get_name(entry)));
        if (!child || text_or_empty(udev_device_get_devtype(child.get())) != "usb_interface")
            continue;
        std::optional<unsigned> klass = parse_number(sysattr(child.get(), "bInterfaceClass"), 16);
        std::optional<unsigned> subclass = parse_number(sysattr(child.get(), "bInterfaceSubClass"), 16);
        std::optional<unsigned> protocol = parse_number(sysattr(child.get(), "bInterfaceProtocol"), 16);
        if (klass)
            kinds |= kind_of_interface(*klass, subclass.value_or(0), protocol.value_or(0));
    }
    return kinds;
}

} // namespace

UsbKinds kind_of_interface(unsigned klass, unsigned subclass, unsigned protocol) {
    (void)subclass;
    switch (klass) {
    case 0x01: return Audio;
    case 0x03: return protocol == 1 ? Keyboard : protocol == 2 ? Mouse : OtherHid;
    case 0x07: return Printer;
    case 0x08: return Storage;
    case 0x09: return 0; // a hub's own interface: hubs are never listed anyway
    case 0x0b: return SmartCard;
    case 0x0e: return Video;
    case 0xe0: return Wireless;
    default: return Other;
    }
}

UsbKinds kinds_from_interfaces(std::string_view interfaces) {
    UsbKinds kinds = 0;
    while (!interfaces.empty()) {
        std::size_t colon = interfaces.find(':');
        std::string_view triple = interfaces.substr(0, colon);
        interfaces = colon == std::string_view::npos ? std::string_view() : interfaces.substr(colon + 1);
        if (triple.size() != 6)
            continue; // the empty pieces around the colons, or garbage
        std::optional<unsigned> klass = parse_number(triple.substr(0, 2), 16);
        std::optional<unsigned> subclass = parse_number(triple.substr(2, 2), 16);
        std::optional<unsigned> protocol = parse_number(triple.substr(4, 2), 16);
        if (klass && subclass && protocol)
            kinds |= kind_of_interface(*klass, *subclass, *protocol);
    }
    return kinds;
}

std::optional<UsbDevice> read_usb_device(udev* context, udev_device* device) {
    if (text_or_empty(udev_device_get_devtype(device)) != "usb_device")
        return std::nullopt;
    std::string_view sysname = text_or_empty(udev_device_get_sysname(device));
    // Root hubs are "usb1", "usb2"; every hub has device class 09.
    if (sysname.empty() || sysname.starts_with("usb") || trimmed(sysattr(device, "bDeviceClass")) == "09")
        return std::nullopt;
    std::optional<unsigned> vendor = parse_number(sysattr(device, "idVendor"), 16);
    std::optional<unsigned> product = parse_number(sysattr(device, "idProduct"), 16);
    if (!vendor || !product || *vendor > 0xffff || *product > 0xffff)
        return std::nullopt;

    UsbDevice result;
    result.sysname = std::string(sysname);
    result.bus = static_cast<int>(parse_number(sysattr(device, "busnum"), 10).value_or(0));
    result.address = static_cast<int>(parse_number(sysattr(device, "devnum"), 10).value_or(0));
    result.vendor = static_cast<std::uint16_t>(*vendor);
    result.product = static_cast<std::uint16_t>(*product);
    result.serial = trimmed(sysattr(device, "serial"));
    result.vendor_name = pick_name(device, "ID_VENDOR_FROM_DATABASE", "manufacturer");
    result.product_name = pick_name(device, "ID_MODEL_FROM_DATABASE", "product");
    std::string_view interfaces = property(device, "ID_USB_INTERFACES");
    result.kinds = interfaces.empty() ? kinds_from_children(context, device) : kinds_from_interfaces(interfaces);
    // udev's input rules tag what the HID descriptors say, beyond the boot protocols.
    if (property(device, "ID_INPUT_KEYBOARD") == "1")
        result.kinds |= Keyboard;
    if (property(device, "ID_INPUT_MOUSE") == "1" || property(device, "ID_INPUT_TOUCHPAD") == "1")
        result.kinds |= Mouse;
    if (result.kinds & (Keyboard | Mouse))
        result.kinds &= ~static_cast<UsbKinds>(OtherHid);
    std::string seat = trimmed(property(device, "ID_SEAT"));
    if (!seat.empty())
        result.seat = std::move(seat);
    return result;
}

} // namespace phyllome::guestview::usb
