// What the user reads when a USB device cannot be given to a guest: what happened and what to do,
// naming the guest and the device, with libvirt's own text after in brackets.
#pragma once

#include <string>
#include <string_view>

#include "guestview/guest_inventory.hpp"

namespace phyllome::guestview {

// The guest has no USB controller (model='none'): said before libvirt is asked.
std::string no_usb_controller_error(const std::string& guest, const UsbHostdev& device);

// From libvirt's message for a failed live attach: the guest is not running, has no USB, the
// device is given to another guest, is gone from the host, or its /dev/bus/usb node may not be
// opened; anything else is "cannot give ... to guest '...': <libvirt's message>".
std::string usb_attach_error(const std::string& guest, const UsbHostdev& device, std::string_view message);

// What to tell over the guest, short: the reason and what to do of an error made above, without
// the device and guest it names first nor libvirt's text ("it is no longer plugged in: plug it in
// again"); an error of another form comes back whole.
std::string usb_error_reason(std::string_view error);

} // namespace phyllome::guestview
