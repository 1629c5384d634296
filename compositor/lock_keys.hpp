// Caps, Num and Scroll Lock: the host's (its keyboards' state) or a guest's (its LEDs).
#pragma once

#include <cstdint>

namespace phyllome::compositor {

struct LockKeys {
    bool caps = false, num = false, scroll = false;
    bool operator==(const LockKeys&) const = default;
};

// From QEMU's Keyboard.Modifiers bits (guestview::led_*).
LockKeys lock_keys_from_leds(std::uint32_t leds);

} // namespace phyllome::compositor
