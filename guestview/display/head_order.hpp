// Which of a guest's graphic consoles is its head 0, 1, 2…: the heads of its virtio-gpu device
// in Head order (the device the guest's desktop draws on), then any other device's consoles
// (a VGA beside it, a second card) by console id. Console ids alone would put a VGA console
// first, and QEMU numbers every device's heads from 0 (doc §1.3).
#pragma once

#include <cstdint>
#include <vector>

#include "guestview/display/display_connection.hpp"

namespace phyllome::guestview {

// Console ids, head 0 first. Text consoles are left out.
std::vector<std::uint32_t> order_heads(const std::vector<ConsoleInfo>& consoles);

} // namespace phyllome::guestview
