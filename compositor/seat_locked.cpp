// The seat while the session is locked: every key, motion, click and touch goes to the locker's
// surface and nowhere else (no guest, no host window, no overlay, no Host+key chord but the
// lock key, which the shell takes only to start a locker again). Virtual terminals still switch.
#include <linux/input-event-codes.h>

#include <algorithm>

#include "compositor/seat.hpp"

namespace phyllome::compositor {
namespace {

// A pointer event goes to the focused surface only if it belongs to the locker (its lock
// surface or one of that surface's subsurfaces).
bool locker_has_pointer(wlr_seat* seat) {
    wlr_surface* focused = seat->pointer_state.focused_surface;
    return focused && wlr_session_lock_surface_v1_try_from_wlr_surface(wlr_surface_get_root_surface(focused));
}

} // namespace

bool Seat::locked_key(wlr_keyboard* kb, wlr_keyboard_key_event* event) {
    const bool pressed = event->state == WL_KEYBOARD_KEY_STATE_PRESSED;
    const std::uint32_t xkb_code = event->keycode + 8;
    const xkb_keysym_t* syms = nullptr;
    const int nsyms = std::max(xkb_state_key_get_syms(kb->xkb_state, xkb_code, &syms), 0);
    const bool is_host_key = std::find(syms, syms + nsyms, host_keysym_) != syms + nsyms;
    LockedInput* lock = target_.session_lock();
    if (!lock) {
        // A key pressed while locked and released after the unlock was never the guest's.
        auto it = std::find(lock_keys_.begin(), lock_keys_.end(), event->keycode);
        if (pressed || it == lock_keys_.end())
            return false;
        lock_keys_.erase(it);
        if (is_host_key)
            host_key_down_ = false;
        return true;
    }
    if (is_host_key)
        host_key_down_ = pressed;
    if (pressed) {
        if (host_key_down_ && !is_host_key) {
            if (target_.host_binding(binding_sym(kb, xkb_code))) { // the shell's answer while locked: only the lock key
                host_combo_keys_.push_back(event->keycode);
                return true;
            }
        }
        for (int i = 0; i < nsyms; ++i)
            if (handle_vt_switch(syms[i]))
                return true;
        if (std::find(lock_keys_.begin(), lock_keys_.end(), event->keycode) == lock_keys_.end())
            lock_keys_.push_back(event->keycode);
    } else {
        if (auto it = std::find(host_combo_keys_.begin(), host_combo_keys_.end(), event->keycode);
            it != host_combo_keys_.end()) {
            host_combo_keys_.erase(it);
            return true;
        }
        std::erase(lock_keys_, event->keycode);
    }
    wlr_surface* focus = lock->keyboard_surface();
    if (!focus)
        return true; // no locker (yet, or any more): the key goes nowhere
    // Re-entered on every key: nothing else (a host window that mapped meanwhile) keeps it.
    if (seat_->keyboard_state.focused_surface != focus)
        wlr_seat_keyboard_notify_enter(seat_, focus, nullptr, 0, &kb->modifiers);
    wlr_seat_set_keyboard(seat_, kb);
    wlr_seat_keyboard_notify_key(seat_, event->time_msec, event->keycode, event->state);
    return true;
}

bool Seat::locked_pointer_motion(std::uint32_t time_msec) {
    LockedInput* lock = target_.session_lock();
    if (!lock)
        return false;
    double sx = 0, sy = 0;
    if (wlr_surface* surface = lock->surface_at(cursor_->x, cursor_->y, sx, sy)) {
        wlr_seat_pointer_notify_enter(seat_, surface, sx, sy);
        wlr_seat_pointer_notify_motion(seat_, time_msec, sx, sy);
        return true;
    }
    if (seat_->pointer_state.focused_surface)
        wlr_seat_pointer_notify_clear_focus(seat_);
    if (!pointers_.empty())
        if (wlr_xcursor_manager* theme = cursor_theme())
            wlr_cursor_set_xcursor(cursor_, theme, "left_ptr");
    return true;
}

bool Seat::locked_pointer_event(const std::function<void()>& deliver) {
    if (!target_.session_lock())
        return false;
    if (locker_has_pointer(seat_))
        deliver();
    return true;
}

bool Seat::locked_touch(double lx, double ly, const std::function<void(wlr_surface*, double, double)>& deliver) {
    LockedInput* lock = target_.session_lock();
    if (!lock)
        return false;
    double sx = 0, sy = 0;
    if (wlr_surface* surface = lock->surface_at(lx, ly, sx, sy))
        deliver(surface, sx, sy);
    return true;
}

} // namespace phyllome::compositor
