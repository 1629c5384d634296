// The lock keys (Caps, Num, Scroll Lock) the host and the shown guest share: a guest coming to
// the front takes the host's, and a guest changing its own LEDs (a login screen turning Num Lock
// on) moves the host's with it, so the keyboard's lights always tell what the guest will type.
#include "compositor/keyboard.hpp"
#include "compositor/seat.hpp"
#include "config/log.hpp"

namespace phyllome::compositor {

void Seat::sync_guest_locks(GuestInput& guest) {
    shown_guest_leds_ = guest.leds();
    guest.sync_locks(locks_);
}

// A lock key toggles the host's state wherever it goes (a guest, a window, the overlay, the
// locker), as xkb does with the usual layouts; xkb keeps Scroll Lock as no modifier at all.
void Seat::note_lock_key(const xkb_keysym_t* syms, int nsyms) {
    for (int i = 0; i < nsyms; ++i) {
        if (syms[i] == XKB_KEY_Caps_Lock)
            locks_.caps = !locks_.caps;
        else if (syms[i] == XKB_KEY_Num_Lock)
            locks_.num = !locks_.num;
        else if (syms[i] == XKB_KEY_Scroll_Lock)
            locks_.scroll = !locks_.scroll;
    }
}

// Updates the xkb state, tells clients and sets the keyboard's lights.
void Seat::set_keyboard_locks(wlr_keyboard* kb) const {
    if (!kb->keymap)
        return;
    xkb_mod_mask_t locked = kb->modifiers.locked;
    for (auto [name, on] : {std::pair{XKB_MOD_NAME_CAPS, locks_.caps}, std::pair{XKB_MOD_NAME_NUM, locks_.num}}) {
        const xkb_mod_index_t index = xkb_keymap_mod_get_index(kb->keymap, name);
        if (index != XKB_MOD_INVALID)
            locked = on ? locked | (1u << index) : locked & ~(1u << index);
    }
    if (locked != kb->modifiers.locked)
        wlr_keyboard_notify_modifiers(kb, kb->modifiers.depressed, kb->modifiers.latched, locked, kb->modifiers.group);
}

void Seat::guest_leds_changed(std::uint32_t leds) {
    // Only a change counts: a property read that repeats the LEDs must not undo a lock key the
    // host just sent and the guest has not answered yet.
    if (shown_guest_leds_ == leds || target_.session_lock())
        return;
    shown_guest_leds_ = leds;
    const LockKeys guest = lock_keys_from_leds(leds);
    if (guest == locks_)
        return;
    log::debug("the shown guest set its lock keys (caps {}, num {}, scroll {}): the host follows", guest.caps,
               guest.num, guest.scroll);
    locks_ = guest;
    for (const auto& k : keyboards_)
        set_keyboard_locks(wlr_keyboard_from_input_device(k->device()));
}

} // namespace phyllome::compositor
