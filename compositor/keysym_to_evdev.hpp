// Turns keysyms back into physical keys of a reference layout. Virtual keyboards (on-screen
// keyboards, wtype) upload keymaps of their own whose keycodes mean nothing to a guest; the
// guest needs the evdev key that types the same symbol on the user's layout.
#pragma once

#include <cstdint>
#include <optional>
#include <unordered_map>

#include <xkbcommon/xkbcommon.h>

namespace phyllome::compositor {

struct PhysicalKey {
    std::uint32_t evdev = 0;
    bool shift = false; // the symbol is on the shifted level
};

class KeysymToEvdev {
public:
    // Reads every key of `keymap` (levels 0 and 1 of the first layout).
    explicit KeysymToEvdev(xkb_keymap* keymap);
    std::optional<PhysicalKey> find(xkb_keysym_t sym) const;

private:
    std::unordered_map<xkb_keysym_t, PhysicalKey> keys_;
};

} // namespace phyllome::compositor
