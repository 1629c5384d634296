// How the user tells guests apart: their number (Host+1…9) and their colour.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "guestview/guest_inventory.hpp"

namespace phyllome::compositor {

// The guest's colour from its metadata, else one derived from its name (stable across runs).
std::uint32_t guest_colour(const guestview::GuestInfo& guest);
std::uint32_t colour_from_name(std::string_view name);

struct NumberedGuest {
    int number = 0; // 1-based
    std::string name;
};
// A guest with a slot gets that number; the others take the lowest free numbers in the order
// given (the inventory's: slotted first, then by name). Sorted by number.
std::vector<NumberedGuest> number_guests(const std::vector<guestview::GuestInfo>& guests);

} // namespace phyllome::compositor
