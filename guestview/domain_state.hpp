// Translates libvirt's (state, reason) pair from virDomainGetState into GuestState and text.
#pragma once

#include <string>

#include "guestview/inventory.hpp"

namespace phyllome::guestview {

GuestState guest_state_from_libvirt(int state);
// "shut off: destroyed", "crashed: panicked", or just "running" when the reason is unknown.
std::string describe_state(int state, int reason);

} // namespace phyllome::guestview
