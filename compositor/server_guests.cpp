// The Server's side of the guest stage: what the stage asks of the shell (the overlay, notices,
// kiosk rules, frames) and the Host+key chords that switch guests (the seat routes input;
// GuestInput delivers it).
#include <linux/input-event-codes.h>

#include <fmt/format.h>

#include "compositor/output.hpp"
#include "compositor/server.hpp"

namespace phyllome::compositor {

void Server::overlay_shown(bool shown) {
    wlr_scene_node_set_enabled(overlay_layer(), shown);
    if (shown) {
        refresh_overlay(true);
        return;
    }
    for (auto& o : outputs_)
        o->drop_overlay_picture(); // a full-output image each, repainted when the overlay returns
}

void Server::notice(std::string text, bool error) { overlay_model_.set_notice(std::move(text), error); }

bool Server::kiosk(std::string& locked_to) const {
    if (!kiosk_)
        return false;
    locked_to = kiosk_admin_ ? "" : kiosk_->guest();
    return true;
}

void Server::guest_frame(const std::string& guest, bool new_buffer) {
    if (new_buffer)
        schedule_memory_release(); // the old buffer may have been freed into the heap
    // Kiosk: the "Starting…" screen stays until the guest has something to show.
    if (kiosk_ && guest == kiosk_->guest() && !kiosk_->showing_guest()) {
        kiosk_->on_first_frame(session::KioskPolicy::Clock::now());
        std::string error;
        if (!kiosk_admin_)
            show_guest(guest, error);
        kiosk_update();
    }
}

bool Server::host_binding(xkb_keysym_t sym) {
    const auto& hk = config().hotkeys;
    auto is = [&](const std::string& name) {
        return !name.empty() && xkb_keysym_to_lower(xkb_keysym_from_name(name.c_str(), XKB_KEYSYM_CASE_INSENSITIVE)) ==
                                    xkb_keysym_to_lower(sym);
    };
    if (kiosk_ && !kiosk_admin_) {
        // A kiosk has no switching; only its admin key (if configured) reaches the overlay.
        if (!config().kiosk.admin_key.empty() && is(config().kiosk.admin_key)) {
            kiosk_admin_ = true;
            show_overlay(true);
            return true;
        }
        if (is(hk.ctrl_alt_delete)) {
            if (GuestInput* guest = stage_->shown_input())
                guest->chord({KEY_LEFTCTRL, KEY_LEFTALT, KEY_DELETE});
            return true;
        }
        return false;
    }
    if (is(hk.overlay)) {
        show_overlay(true);
        return true;
    }
    if (is(hk.previous) || is(hk.next)) {
        show_adjacent_guest(is(hk.previous) ? -1 : 1);
        return true;
    }
    if (sym >= XKB_KEY_1 && sym <= XKB_KEY_9) {
        const std::string name = stage_->guest_by_number(static_cast<int>(sym - XKB_KEY_1) + 1);
        std::string error;
        if (name.empty() || !show_guest(name, error))
            overlay_model_.set_notice(name.empty() ? fmt::format("No guest has number {}", sym - XKB_KEY_1 + 1)
                                                   : fmt::format("Cannot show {}: {}", name, error),
                                      true);
        refresh_overlay();
        return true;
    }
    if (is(hk.ctrl_alt_delete)) {
        if (GuestInput* guest = stage_->shown_input())
            guest->chord({KEY_LEFTCTRL, KEY_LEFTALT, KEY_DELETE});
        return true;
    }
    if (sym >= XKB_KEY_F1 && sym <= XKB_KEY_F12) {
        static constexpr uint32_t fkeys[] = {KEY_F1, KEY_F2, KEY_F3, KEY_F4,  KEY_F5,  KEY_F6,
                                             KEY_F7, KEY_F8, KEY_F9, KEY_F10, KEY_F11, KEY_F12};
        if (GuestInput* guest = stage_->shown_input())
            guest->chord({KEY_LEFTCTRL, KEY_LEFTALT, fkeys[sym - XKB_KEY_F1]});
        return true;
    }
    return false;
}

} // namespace phyllome::compositor
