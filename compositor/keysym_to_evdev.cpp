#include "compositor/keysym_to_evdev.hpp"

namespace phyllome::compositor {

KeysymToEvdev::KeysymToEvdev(xkb_keymap* keymap) {
    if (!keymap)
        return;
    const xkb_keycode_t min = xkb_keymap_min_keycode(keymap), max = xkb_keymap_max_keycode(keymap);
    // Unshifted symbols first, so 'a' maps to KEY_A and not to a shifted duplicate elsewhere.
    for (xkb_level_index_t level : {0u, 1u}) {
        for (xkb_keycode_t code = min; code <= max && code >= 8; ++code) {
            const xkb_keysym_t* syms = nullptr;
            const int n = xkb_keymap_key_get_syms_by_level(keymap, code, 0, level, &syms);
            for (int i = 0; i < n; ++i)
                keys_.try_emplace(syms[i], PhysicalKey{code - 8, level == 1});
        }
    }
}

std::optional<PhysicalKey> KeysymToEvdev::find(xkb_keysym_t sym) const {
    auto it = keys_.find(sym);
    if (it == keys_.end())
        return std::nullopt;
    return it->second;
}

} // namespace phyllome::compositor
