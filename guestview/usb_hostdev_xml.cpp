#include "guestview/usb_hostdev_xml.hpp"

#include <cctype>
#include <charconv>

#include <fmt/format.h>

#include "config/log.hpp"
#include "guestview/xml_tree.hpp"

namespace phyllome::guestview {
namespace {

using namespace xml;

// libvirt writes ids as "0x0781" and addresses in decimal; people may write either base.
template <typename T>
std::optional<T> parse_number(std::optional<std::string> text) {
    if (!text || text->empty())
        return std::nullopt;
    std::string_view digits = *text;
    int base = 10;
    if (digits.starts_with("0x") || digits.starts_with("0X")) {
        digits.remove_prefix(2);
        base = 16;
    }
    T value{};
    auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value, base);
    if (digits.empty() || error != std::errc() || end != digits.data() + digits.size())
        return std::nullopt;
    return value;
}

const xmlNode* domain_root(const DocPtr& doc) {
    const xmlNode* root = doc ? xmlDocGetRootElement(doc.get()) : nullptr;
    return root != nullptr && is_element(root, "domain", std::nullopt) ? root : nullptr;
}

std::optional<UsbHostdev> hostdev_of(const xmlNode* hostdev) {
    if (attribute(hostdev, "mode").value_or("subsystem") != "subsystem" || attribute(hostdev, "type") != "usb")
        return std::nullopt;
    const xmlNode* source = child(hostdev, "source", std::nullopt);
    if (source == nullptr)
        return std::nullopt;
    UsbHostdev device;
    if (const xmlNode* vendor = child(source, "vendor", std::nullopt))
        device.vendor = parse_number<std::uint16_t>(attribute(vendor, "id")).value_or(0);
    if (const xmlNode* product = child(source, "product", std::nullopt))
        device.product = parse_number<std::uint16_t>(attribute(product, "id")).value_or(0);
    if (const xmlNode* address = child(source, "address", std::nullopt)) {
        device.bus = parse_number<int>(attribute(address, "bus")).value_or(0);
        device.address = parse_number<int>(attribute(address, "device")).value_or(0);
    }
    return device;
}

} // namespace

std::string usb_hostdev_xml(const UsbHostdev& device) {
    return fmt::format("<hostdev mode='subsystem' type='usb' managed='yes'><source>"
                       "<vendor id='{:#06x}'/><product id='{:#06x}'/><address bus='{}' device='{}'/>"
                       "</source></hostdev>",
                       device.vendor, device.product, device.bus, device.address);
}

std::string describe_hostdev(const UsbHostdev& device) {
    return fmt::format("USB device {:04x}:{:04x} (bus {} device {})", device.vendor, device.product, device.bus,
                       device.address);
}

DomainUsb usb_from_domain_xml(std::string_view text) {
    DomainUsb usb;
    DocPtr doc = parse(text);
    const xmlNode* root = domain_root(doc);
    const xmlNode* devices = root != nullptr ? child(root, "devices", std::nullopt) : nullptr;
    if (devices == nullptr)
        return usb;
    for (const xmlNode* controller : children(devices, "controller", std::nullopt))
        if (attribute(controller, "type") == "usb" && attribute(controller, "model") != "none")
            usb.controller = true;
    for (const xmlNode* hostdev : children(devices, "hostdev", std::nullopt)) {
        if (std::optional<UsbHostdev> device = hostdev_of(hostdev)) {
            usb.hostdevs.push_back(*device);
            const xmlNode* alias = child(hostdev, "alias", std::nullopt);
            usb.aliases.push_back(alias != nullptr ? attribute(alias, "name").value_or("") : "");
        }
    }
    return usb;
}

std::optional<std::string> normalise_usb_id(std::string_view id) {
    constexpr std::size_t id_length = 9; // "0781:5581"
    if (id.size() != id_length || id[4] != ':')
        return std::nullopt;
    std::string out;
    for (std::size_t i = 0; i < id.size(); ++i) {
        if (i == 4) {
            out += ':';
            continue;
        }
        if (std::isxdigit(static_cast<unsigned char>(id[i])) == 0)
            return std::nullopt;
        out += static_cast<char>(std::tolower(static_cast<unsigned char>(id[i])));
    }
    return out;
}

std::vector<usb::UsbChoice> usb_choices_from_domain_xml(std::string_view text, std::string_view guest) {
    std::vector<usb::UsbChoice> choices;
    DocPtr doc = parse(text);
    const xmlNode* root = domain_root(doc);
    const xmlNode* metadata = root != nullptr ? child(root, "metadata", std::nullopt) : nullptr;
    const xmlNode* element = metadata != nullptr ? child(metadata, "usb", usb_namespace) : nullptr;
    if (element == nullptr)
        return choices;
    // Someone may have edited the XML by hand: a bad entry is skipped, never fatal.
    // virDomainSetMetadata puts only the outer element in the namespace; the children are in none.
    for (const xmlNode* device = element->children; device != nullptr; device = device->next) {
        if (!is_element(device, "device", std::nullopt) && !is_element(device, "device", usb_namespace))
            continue;
        const std::string id = attribute(device, "id").value_or("");
        const std::string choice = attribute(device, "choice").value_or("");
        std::optional<std::string> normal = normalise_usb_id(id);
        if (!normal || (choice != "always" && choice != "never")) {
            log::debug("guest '{}': ignoring a remembered USB choice id=\"{}\" choice=\"{}\"", guest, id, choice);
            continue;
        }
        choices.push_back({usb::UsbMatch{*normal, attribute(device, "serial").value_or("")}, choice == "always"});
    }
    return choices;
}

std::string usb_choices_element(const std::vector<usb::UsbChoice>& choices) {
    if (choices.empty())
        return {};
    std::string element = "<usb>";
    for (const usb::UsbChoice& choice : choices) {
        element += fmt::format("<device id=\"{}\"", escape(normalise_usb_id(choice.match.id).value_or(choice.match.id)));
        if (!choice.match.serial.empty())
            element += fmt::format(" serial=\"{}\"", escape(choice.match.serial));
        element += fmt::format(" choice=\"{}\"/>", choice.always ? "always" : "never");
    }
    return element + "</usb>";
}

std::string usb_choices_problem(const std::vector<usb::UsbChoice>& choices) {
    for (std::size_t i = 0; i < choices.size(); ++i)
        if (!normalise_usb_id(choices[i].match.id))
            return fmt::format("USB choice {}: the id '{}' is not like 0781:5581", i + 1, choices[i].match.id);
    return {};
}

} // namespace phyllome::guestview
