// The seat's keys: the host key and its chords, virtual terminals, then a host window, the
// shown guest (with key repeat, and virtual keyboards' symbols typed on the user's layout), or
// the overlay.
#include <linux/input-event-codes.h>

#include <algorithm>
#include <iterator>

#include "compositor/latency_stats.hpp"
#include "compositor/seat.hpp"
#include "config/log.hpp"

namespace phyllome::compositor {

xkb_keymap* Seat::keymap() {
    if (!keymap_ && parts_.warmup) {
        const double before = monotonic_ms();
        keymap_ = parts_.warmup->take_keymap();
        log::debug("start-up: waited {:.1f} ms for the keymap", monotonic_ms() - before);
    }
    if (!keymap_)
        keymap_ = compile_keymap(config_.keyboard);
    return keymap_.get();
}

const KeysymToEvdev* Seat::keysym_table() {
    if (!keysym_to_evdev_)
        if (xkb_keymap* reference = keymap())
            keysym_to_evdev_ = std::make_unique<KeysymToEvdev>(reference);
    return keysym_to_evdev_.get();
}

// Ctrl+Alt+Fn switches virtual terminals when we run on one, whatever has focus; a locked kiosk
// has no way out, so there the keys go on to its guest.
bool Seat::handle_vt_switch(xkb_keysym_t sym) {
    if (sym < XKB_KEY_XF86Switch_VT_1 || sym > XKB_KEY_XF86Switch_VT_12 || !target_.vt_switch_allowed())
        return false;
    if (parts_.session)
        wlr_session_change_vt(parts_.session, sym - XKB_KEY_XF86Switch_VT_1 + 1);
    return true;
}

void Seat::guest_key(std::uint32_t keycode, bool pressed) {
    GuestInput* guest = target_.shown_guest_input();
    if (!guest)
        return;
    guest->key(keycode, pressed, cursor_->x, cursor_->y);
    static constexpr std::uint32_t no_repeat[] = {KEY_LEFTCTRL, KEY_RIGHTCTRL, KEY_LEFTSHIFT, KEY_RIGHTSHIFT,
                                                  KEY_LEFTALT,  KEY_RIGHTALT,  KEY_LEFTMETA,  KEY_RIGHTMETA,
                                                  KEY_CAPSLOCK, KEY_NUMLOCK,   KEY_SCROLLLOCK};
    const bool modifier = std::find(std::begin(no_repeat), std::end(no_repeat), keycode) != std::end(no_repeat);
    if (pressed && !modifier)
        key_repeater_->pressed(keycode);
    else if (!pressed)
        key_repeater_->released(keycode);
}

// A Host+key chord names the key by its first level (Host+1, not Host+!), else its symbol now.
xkb_keysym_t Seat::binding_sym(wlr_keyboard* kb, std::uint32_t xkb_code) {
    if (const xkb_keysym_t* l0 = nullptr; xkb_keymap_key_get_syms_by_level(kb->keymap, xkb_code, 0, 0, &l0) > 0 &&
                                          l0[0] != XKB_KEY_NoSymbol)
        return l0[0];
    return xkb_state_key_get_one_sym(kb->xkb_state, xkb_code);
}

void Seat::guest_shown(GuestInput& guest) {
    wlr_keyboard* kb = wlr_seat_get_keyboard(seat_);
    if (!kb || !kb->xkb_state || target_.session_lock()) // held keys are the locker's
        return;
    sync_guest_locks(guest);
    send_held_modifiers(guest);
}

// The guest being shown gets the modifiers held right now (Shift held across a switch stays held).
void Seat::send_held_modifiers(GuestInput& guest) {
    wlr_keyboard* kb = wlr_seat_get_keyboard(seat_);
    static constexpr std::uint32_t modifiers[] = {KEY_LEFTCTRL, KEY_RIGHTCTRL, KEY_LEFTSHIFT, KEY_RIGHTSHIFT,
                                                  KEY_LEFTALT,  KEY_RIGHTALT,  KEY_LEFTMETA,  KEY_RIGHTMETA};
    for (std::size_t i = 0; i < kb->num_keycodes; ++i) {
        const std::uint32_t code = kb->keycodes[i];
        if (std::find(std::begin(modifiers), std::end(modifiers), code) == std::end(modifiers))
            continue;
        if (xkb_state_key_get_one_sym(kb->xkb_state, code + 8) == host_keysym_)
            continue; // the host key is never the guest's
        guest.key(code, true, cursor_->x, cursor_->y);
    }
}

void Seat::handle_key(wlr_input_device* device, wlr_keyboard_key_event* event) {
    wlr_keyboard* kb = wlr_keyboard_from_input_device(device);
    target_.input_activity();
    const std::uint32_t xkb_code = event->keycode + 8; // evdev -> xkb
    const xkb_keysym_t* syms = nullptr;
    const int nsyms = xkb_state_key_get_syms(kb->xkb_state, xkb_code, &syms);
    if (event->state == WL_KEYBOARD_KEY_STATE_PRESSED)
        note_lock_key(syms, nsyms);
    if (locked_key(kb, event))
        return;
    const std::uint32_t mods = wlr_keyboard_get_modifiers(kb);
    const bool pressed = event->state == WL_KEYBOARD_KEY_STATE_PRESSED;
    const xkb_keysym_t base_sym = xkb_state_key_get_one_sym(kb->xkb_state, xkb_code);
    const bool is_host_key = std::any_of(syms, syms + std::max(nsyms, 0), [&](xkb_keysym_t s) { return s == host_keysym_; });
    GuestInput* guest = target_.shown_guest_input();

    // The host key is the shell's: it never reaches a guest or a host window.
    if (is_host_key) {
        host_key_down_ = pressed;
        if (guest || target_.host_window())
            return;
    }
    if (pressed) {
        // Reserved before anything else: no guest or client can capture these.
        if (host_key_down_ && !is_host_key) {
            if (target_.host_binding(binding_sym(kb, xkb_code))) {
                host_combo_keys_.push_back(event->keycode);
                return;
            }
        }
        for (int i = 0; i < nsyms; ++i)
            if (handle_vt_switch(syms[i]))
                return;
    } else if (auto it = std::find(host_combo_keys_.begin(), host_combo_keys_.end(), event->keycode);
               it != host_combo_keys_.end()) {
        host_combo_keys_.erase(it);
        return;
    }
    if (wlr_surface* window = target_.host_window()) {
        wlr_seat_set_keyboard(seat_, kb);
        // The window came forward before any keyboard existed (a virtual one arrives later).
        if (seat_->keyboard_state.focused_surface != window)
            wlr_seat_keyboard_notify_enter(seat_, window, kb->keycodes, kb->num_keycodes, &kb->modifiers);
        wlr_seat_keyboard_notify_key(seat_, event->time_msec, event->keycode, event->state);
        return;
    }
    if (guest) {
        if (!is_virtual_keyboard(device)) {
            guest_key(event->keycode, pressed);
            return;
        }
        // A virtual keyboard's keycodes are its own: type the same symbol on the user's layout.
        const KeysymToEvdev* table = keysym_table();
        const auto key = table && nsyms > 0 ? table->find(syms[0]) : std::nullopt;
        if (!key)
            return;
        if (key->shift && pressed)
            guest_key(KEY_LEFTSHIFT, true);
        guest_key(key->evdev, pressed);
        if (key->shift && !pressed)
            guest_key(KEY_LEFTSHIFT, false);
        return;
    }
    if (pressed)
        target_.overlay_key(base_sym != XKB_KEY_NoSymbol ? xkb_keysym_to_lower(base_sym)
                                                         : (nsyms > 0 ? syms[0] : XKB_KEY_NoSymbol),
                            mods);
}

} // namespace phyllome::compositor
