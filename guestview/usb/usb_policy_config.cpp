#include "guestview/usb/usb_policy_config.hpp"

namespace phyllome::guestview::usb {

UsbPolicy policy_from_config(const config::UsbConfig& usb) {
    UsbPolicy policy;
    policy.ask_first = 0;
    for (const std::string& name : usb.ask_first)
        if (std::optional<UsbKind> kind = usb_kind_from_string(name))
            policy.ask_first |= *kind;
    for (const config::UsbDeviceRule& device : usb.devices)
        policy.rules.push_back(UsbRule{.match = {device.id, device.serial}, .always = device.always, .never = device.never});
    return policy;
}

} // namespace phyllome::guestview::usb
