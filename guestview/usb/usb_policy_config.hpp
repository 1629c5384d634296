// The config's [usb] section as the policy takes it.
#pragma once

#include "config/config.hpp"
#include "guestview/usb/usb_policy.hpp"

namespace phyllome::guestview::usb {

// ask_first's names become kinds (the config has checked them; an unknown one is skipped), and
// each [[usb.device]] a rule in file order.
UsbPolicy policy_from_config(const config::UsbConfig& usb);

} // namespace phyllome::guestview::usb
