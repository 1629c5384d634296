// The Server's side of the guest stage: what the stage asks of the shell (the overlay, notices,
// kiosk rules, frames) and the Host+key chords that switch guests (the seat routes input;
// GuestInput delivers it).
#include <fmt/format.h>

#include "compositor/host_bindings.hpp"
#include "compositor/output.hpp"
#include "compositor/server.hpp"

namespace phyllome::compositor {

void Server::overlay_shown(bool shown) {
    wlr_scene_node_set_enabled(&overlay_layer()->node, shown);
    if (shown) {
        refresh_overlay(true);
        return;
    }
    for (auto& o : outputs_)
        o->drop_overlay_picture(); // a full-output image each, repainted when the overlay returns
    if (thumbnails_)
        thumbnails_->clear();
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

void Server::guest_attached(const std::string& guest) {
    if (guestview::DisplayConnection* display = stage_->displays().connection(guest))
        sound_->attached(guest, *display);
}

void Server::sound_changed() {
    if (mic_indicator_)
        mic_indicator_->set_live(sound_ && !sound_->microphone().empty());
    refresh_overlay(true);
}

bool Server::microphone_binding(xkb_keysym_t sym) {
    const std::string& key = config().audio.mic_key;
    if (key.empty() || kiosk_locked() ||
        xkb_keysym_to_lower(xkb_keysym_from_name(key.c_str(), XKB_KEYSYM_CASE_INSENSITIVE)) != xkb_keysym_to_lower(sym))
        return false;
    std::string why;
    if (!sound_->toggle_microphone(stage_->displays().connection(stage_->shown()), why))
        overlay_model_.set_notice(why, true);
    sound_changed();
    return true;
}

bool Server::host_binding(xkb_keysym_t sym) {
    if (lock_binding(sym))
        return true;
    if (lock_->engaged())
        return false; // while locked no other binding does anything: the key is the locker's
    if (microphone_binding(sym))
        return true;
    if (usb_binding(sym)) { // in kiosk mode too: the one guest gets the devices
        refresh_overlay();
        return true;
    }
    const HostBinding done = compositor::host_binding(sym, config(), kiosk_locked(), *stage_, [this](std::string why) {
        overlay_model_.set_notice(std::move(why), true);
    });
    if (done == HostBinding::Copy)
        clipboard_copy();
    if (done == HostBinding::Paste)
        clipboard_paste();
    if (done == HostBinding::KioskAdmin) {
        kiosk_admin_ = true;
        show_overlay(true);
    }
    refresh_overlay();
    return done != HostBinding::None;
}

} // namespace phyllome::compositor
