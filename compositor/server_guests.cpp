// The Server's guest side: attaching displays, showing and switching guests, and the host
// key chords that switch them (the seat routes input; GuestInput delivers it).
#include <algorithm>

#include <fmt/format.h>

#include "compositor/guest_identity.hpp"
#include "compositor/latency_stats.hpp"
#include "compositor/output.hpp"
#include "compositor/server.hpp"
#include "compositor/xdg_view.hpp"
#include "config/log.hpp"

namespace phyllome::compositor {

GuestView* Server::shown_view() const {
    auto it = guest_views_.find(shown_guest_);
    return it == guest_views_.end() ? nullptr : it->second.get();
}

std::vector<std::string> Server::switchable_guests() const {
    // In the guests' numbering order (slots from their metadata, then names), then manual displays.
    std::vector<std::string> names;
    for (const auto& n : number_guests(inventory_->guests()))
        if (guest_views_.count(n.name))
            names.push_back(n.name);
    for (const auto& [name, view] : guest_views_)
        if (std::find(names.begin(), names.end(), name) == names.end())
            names.push_back(name);
    return names;
}

std::string Server::guest_by_number(int number) const {
    for (const auto& n : number_guests(inventory_->guests()))
        if (n.number == number)
            return n.name;
    return {};
}

int Server::number_of(const std::string& guest) const {
    for (const auto& n : number_guests(inventory_->guests()))
        if (n.name == guest)
            return n.number;
    return 0;
}

void Server::on_display_attached(const std::string& guest) {
    auto view = std::make_unique<GuestView>(*this, guest);
    GuestView& v = *view;
    guest_views_[guest] = std::move(view);
    v.layout(outputs_, displays_->graphic_consoles(guest));
    if (auto* conn = displays_->connection(guest))
        for (std::uint32_t id : displays_->graphic_consoles(guest))
            if (const auto* c = conn->console(id))
                v.set_absolute(id, c->mouse_is_absolute);
    log::info("guest {}: display attached", guest);
    // A guest that starts while nothing is shown comes to the front, unless the user chose the
    // overlay. A kiosk shows its one guest, and only once it has drawn something.
    if (!kiosk_ && shown_guest_.empty() && !overlay_by_choice_ && !focused_view()) {
        std::string error;
        show_guest(guest, error);
    }
    refresh_overlay(true);
}

void Server::on_display_detached(const std::string& guest, const std::string& reason) {
    const bool was_shown = shown_guest_ == guest;
    if (was_shown) {
        seat_->stop_key_repeat();
        shown_input_.reset();
        shown_guest_.clear();
    }
    guest_views_.erase(guest);
    log::info("guest {}: display detached: {}", guest, reason);
    if (!was_shown) {
        refresh_overlay(true);
        schedule_memory_release();
        return;
    }
    // Say what happened in the user's words when libvirt already knows ("win11 crashed: …").
    std::string what = fmt::format("{}: {}", guest, reason);
    if (const auto* g = inventory_->find(guest)) {
        if (g->state == guestview::GuestState::Crashed)
            what = fmt::format("{} crashed: {}", guest, g->state_reason.empty() ? reason : g->state_reason);
        else if (g->state == guestview::GuestState::ShutOff)
            what = g->state_reason.find("shutdown") != std::string::npos
                       ? fmt::format("{} shut down", guest)
                       : fmt::format("{} stopped ({})", guest, g->state_reason.empty() ? reason : g->state_reason);
    }
    overlay_model_.set_notice(what, true);
    // Show the next guest that still has a screen, else the overlay with what happened.
    auto names = switchable_guests();
    if (!names.empty() && !kiosk_) {
        std::string error;
        show_guest(names.front(), error);
    } else {
        show_overlay(false);
    }
}

bool Server::show_guest(const std::string& name, std::string& error) {
    if (kiosk_locked() && name != kiosk_->guest()) {
        error = fmt::format("this is a kiosk for {}", kiosk_->guest());
        return false;
    }
    auto it = guest_views_.find(name);
    if (it == guest_views_.end()) {
        const auto* g = inventory_->find(name);
        error = !g ? fmt::format("no guest named '{}'", name)
                : g->state != guestview::GuestState::Running ? fmt::format("{} is not running", name)
                : g->graphics != guestview::GraphicsSupport::DbusP2P ? g->graphics_note
                : fmt::format("{}'s display is not connected yet", name);
        if (displays_)
            if (auto st = displays_->status(name); !st.error.empty())
                error += ": " + st.error;
        return false;
    }
    if (shown_guest_ != name) {
        if (!shown_guest_.empty()) {
            release_guest_input(shown_guest_);
            if (GuestView* old = shown_view())
                old->set_visible(false);
        }
        shown_guest_ = name;
        shown_input_.emplace(*displays_, *it->second);
        switch_started_ms_ = monotonic_ms();
        it->second->set_visible(true);
        seat_->guest_shown(*shown_input_);
        send_ui_info(name);
        const auto* info = inventory_->find(name);
        banner_->show(name, number_of(name), info ? guest_colour(*info) : colour_from_name(name));
        log::info("showing guest {}", name);
    }
    overlay_by_choice_ = false;
    wlr_scene_node_set_enabled(overlay_layer(), false);
    for (auto& o : outputs_)
        o->drop_overlay_picture(); // a full-output image each, repainted when the overlay returns
    it->second->on_host_pointer(seat_->x(), seat_->y());
    seat_->update_cursor_image();
    present_now();
    schedule_memory_release();
    return true;
}

void Server::show_overlay(bool by_choice) {
    if (!shown_guest_.empty()) {
        release_guest_input(shown_guest_);
        if (GuestView* v = shown_view())
            v->set_visible(false);
        shown_input_.reset();
        shown_guest_.clear();
    }
    overlay_by_choice_ = by_choice;
    banner_->hide();
    wlr_scene_node_set_enabled(overlay_layer(), true);
    refresh_overlay(true);
    seat_->update_cursor_image();
    present_now();
    schedule_memory_release();
}

std::string Server::show_adjacent_guest(int direction) {
    auto names = switchable_guests();
    if (names.empty())
        return {};
    auto it = std::find(names.begin(), names.end(), shown_guest_);
    std::size_t index = 0;
    if (it != names.end())
        index = (static_cast<std::size_t>(it - names.begin()) + names.size() + direction) % names.size();
    else if (direction < 0)
        index = names.size() - 1;
    std::string error;
    show_guest(names[index], error);
    return shown_guest_;
}

void Server::release_guest_input(const std::string&) {
    seat_->stop_key_repeat();
    if (shown_input_)
        shown_input_->release_all();
}

void Server::send_ui_info(const std::string& name) {
    auto* conn = displays_ ? displays_->connection(name) : nullptr;
    auto it = guest_views_.find(name);
    if (!conn || it == guest_views_.end())
        return;
    for (std::uint32_t id : displays_->graphic_consoles(name)) {
        const Output* o = it->second->output_of(id);
        if (!o || o->wlr()->width <= 0)
            continue;
        conn->set_ui_info(id, static_cast<std::uint16_t>(std::max(0, o->wlr()->phys_width)),
                          static_cast<std::uint16_t>(std::max(0, o->wlr()->phys_height)),
                          static_cast<std::uint32_t>(o->wlr()->width), static_cast<std::uint32_t>(o->wlr()->height));
    }
}

void Server::relayout_guests() {
    for (auto& [name, view] : guest_views_)
        view->layout(outputs_, displays_->graphic_consoles(name));
    if (!shown_guest_.empty())
        send_ui_info(shown_guest_);
}

bool Server::host_binding(xkb_keysym_t sym) {
    const auto& hk = config().hotkeys;
    auto is = [&](const std::string& name) {
        return !name.empty() && xkb_keysym_to_lower(xkb_keysym_from_name(name.c_str(), XKB_KEYSYM_CASE_INSENSITIVE)) ==
                                    xkb_keysym_to_lower(sym);
    };
    if (kiosk_locked()) {
        // A kiosk has no switching; only its admin key (if configured) reaches the overlay.
        if (!config().kiosk.admin_key.empty() && is(config().kiosk.admin_key)) {
            kiosk_admin_ = true;
            show_overlay(true);
            return true;
        }
        if (is(hk.ctrl_alt_delete)) {
            if (shown_input_)
                shown_input_->chord({KEY_LEFTCTRL, KEY_LEFTALT, KEY_DELETE});
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
        const std::string name = guest_by_number(static_cast<int>(sym - XKB_KEY_1) + 1);
        std::string error;
        if (name.empty() || !show_guest(name, error))
            overlay_model_.set_notice(name.empty() ? fmt::format("No guest has number {}", sym - XKB_KEY_1 + 1)
                                                   : fmt::format("Cannot show {}: {}", name, error),
                                      true);
        refresh_overlay();
        return true;
    }
    if (is(hk.ctrl_alt_delete)) {
        if (shown_input_)
            shown_input_->chord({KEY_LEFTCTRL, KEY_LEFTALT, KEY_DELETE});
        return true;
    }
    if (sym >= XKB_KEY_F1 && sym <= XKB_KEY_F12) {
        static constexpr uint32_t fkeys[] = {KEY_F1, KEY_F2, KEY_F3, KEY_F4,  KEY_F5,  KEY_F6,
                                             KEY_F7, KEY_F8, KEY_F9, KEY_F10, KEY_F11, KEY_F12};
        if (shown_input_)
            shown_input_->chord({KEY_LEFTCTRL, KEY_LEFTALT, fkeys[sym - XKB_KEY_F1]});
        return true;
    }
    return false;
}

} // namespace phyllome::compositor
