#include "guestview/usb_hostdev_errors.hpp"

#include <fmt/format.h>

#include "guestview/usb_hostdev_xml.hpp"

namespace phyllome::guestview {
namespace {

bool contains(std::string_view text, std::string_view part) { return text.find(part) != std::string_view::npos; }

// libvirt: "USB device 001:005 is in use by driver QEMU, domain other"
std::string other_domain(std::string_view message) {
    const std::size_t at = message.rfind("domain ");
    if (at == std::string_view::npos)
        return "another guest";
    std::string_view name = message.substr(at + 7);
    while (!name.empty() && (name.back() == '.' || name.back() == ' '))
        name.remove_suffix(1);
    return fmt::format("'{}'", name);
}

} // namespace

std::string no_usb_controller_error(const std::string& guest, const UsbHostdev& device) {
    return fmt::format("guest '{}' has no USB controller: cannot give it {}; add one (<controller type='usb' "
                       "model='qemu-xhci'/>) while it is shut off",
                       guest, describe_hostdev(device));
}

std::string usb_attach_error(const std::string& guest, const UsbHostdev& device, std::string_view message) {
    const std::string prefix = fmt::format("cannot give {} to guest '{}'", describe_hostdev(device), guest);
    std::string reason;
    if (contains(message, "not running"))
        reason = "it is not running: start it first";
    else if (contains(message, "USB is disabled"))
        return fmt::format("{} (libvirt: {})", no_usb_controller_error(guest, device), message);
    else if (contains(message, "in use by"))
        reason = fmt::format("it is given to {} already: take it back from there first", other_domain(message));
    else if (contains(message, "/dev/bus/usb") && (contains(message, "ermission denied") || contains(message, "not permitted")))
        reason = fmt::format("the shell may not open /dev/bus/usb/{:03}/{:03}: give the user access to it (a udev rule "
                             "with TAG+=\"uaccess\")",
                             device.bus, device.address);
    else if (contains(message, "Did not find") || contains(message, "/sys/bus/usb") || contains(message, "not found") ||
             (contains(message, "/dev/bus/usb") && contains(message, "No such file")))
        reason = "it is no longer plugged in: plug it in again";
    if (reason.empty())
        return fmt::format("{}: {}", prefix, message);
    return fmt::format("{}: {} (libvirt: {})", prefix, reason, message);
}

std::string usb_error_reason(std::string_view error) {
    if (auto libvirt = error.find(" (libvirt: "); libvirt != std::string_view::npos)
        error = error.substr(0, libvirt);
    if (error.starts_with("guest '") && contains(error, "' has no USB controller: "))
        return "it has no USB controller: add one (<controller type='usb' model='qemu-xhci'/>) while it is shut off";
    if (error.starts_with("cannot give ")) {
        const auto to = error.find(" to guest '");
        const auto end = to == std::string_view::npos ? to : error.find("': ", to + 11);
        if (end != std::string_view::npos)
            return std::string(error.substr(end + 3));
    }
    return std::string(error);
}

} // namespace phyllome::guestview
