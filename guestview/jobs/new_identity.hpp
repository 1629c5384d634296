// An identity (guestview/domain_metadata.hpp) for a guest the shell adds beside others, e.g. a
// duplicate: a number and a colour nobody else has.
#pragma once

#include <vector>

#include "guestview/domain_metadata.hpp"

typedef struct _virConnect* virConnectPtr;

namespace phyllome::guestview {

// The lowest slot that neither another guest's slot nor the number the shell gives a guest
// without one (the lowest free numbers, compositor/guest_identity.hpp) takes, and of a palette
// of distinct hues the colour farthest from every colour set in `others`.
GuestIdentity new_identity(const std::vector<GuestIdentity>& others);

// The identities of every guest `connection` defines (blocking); empty on error.
std::vector<GuestIdentity> identities_of_all_guests(virConnectPtr connection);

} // namespace phyllome::guestview
