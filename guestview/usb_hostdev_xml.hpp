// The libvirt XML of USB devices given to guests: the <hostdev> that gives one, what a domain's
// live XML says it has (its USB hostdevs, whether it has a USB controller at all), and the
// guest's remembered choices in its metadata:
//   <phyllome-usb:usb xmlns:phyllome-usb="https://phyllo.me/xmlns/shell/usb/1.0">
//     <device id="0781:5581" serial="4C53..." choice="always"/>
//   </phyllome-usb:usb>
// libvirt keeps one metadata element per namespace, so it has its own beside <phyllome:identity>.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "guestview/guest_inventory.hpp"

namespace phyllome::guestview {

inline constexpr std::string_view usb_namespace = "https://phyllo.me/xmlns/shell/usb/1.0";
// The prefix virDomainSetMetadata writes the element with.
inline constexpr const char* usb_metadata_key = "phyllome-usb";

// <hostdev mode='subsystem' type='usb' managed='yes'> with vendor, product and the host address:
// the address tells two identical devices apart.
std::string usb_hostdev_xml(const UsbHostdev& device);

// "SanDisk 0781:5581 at 001/005", for messages.
std::string describe_hostdev(const UsbHostdev& device);

struct DomainUsb {
    std::vector<UsbHostdev> hostdevs;
    std::vector<std::string> aliases; // libvirt's alias of each hostdev, "" when it has none
    bool controller = false;          // a <controller type='usb'> whose model is not 'none'
};

// From a whole domain XML; a document that does not parse has neither hostdevs nor controller.
DomainUsb usb_from_domain_xml(std::string_view xml);

// Reads /domain/metadata/usb in usb_namespace (any prefix); entries with a bad id or choice are
// left out (logged at debug level, naming `guest`).
std::vector<usb::UsbChoice> usb_choices_from_domain_xml(std::string_view xml, std::string_view guest);

// The element virDomainSetMetadata wants (namespace from its key and uri); empty for no choices.
std::string usb_choices_element(const std::vector<usb::UsbChoice>& choices);

// Why `choices` cannot be written ("choice 2: the id 'abc' is not like 0781:5581"), or empty.
std::string usb_choices_problem(const std::vector<usb::UsbChoice>& choices);

// "0781:5581" in lower case, or nullopt when `id` is not four hex digits, ':', four hex digits.
std::optional<std::string> normalise_usb_id(std::string_view id);

} // namespace phyllome::guestview
