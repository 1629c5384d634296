// The Server's guest side: attaching displays, showing and switching guests, and routing
// keyboard and pointer input to the shown guest only.
#include <algorithm>

#include <fmt/format.h>

#include "compositor/guest_identity.hpp"
#include "compositor/latency_stats.hpp"
#include "compositor/output.hpp"
#include "compositor/server.hpp"
#include "compositor/xdg_view.hpp"
#include "config/log.hpp"
#include "guestview/input/evdev_to_qnum.hpp"

namespace phyllome::compositor {

using guestview::MouseButton;

GuestView* Server::shown_view() const {
    auto it = guest_views_.find(shown_guest_);
    return it == guest_views_.end() ? nullptr : it->second.get();
}

guestview::DisplayConnection* Server::shown_connection() const {
    return shown_guest_.empty() || !displays_ ? nullptr : displays_->connection(shown_guest_);
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
        key_repeater_->stop();
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
        switch_started_ms_ = monotonic_ms();
        it->second->set_visible(true);
        sync_guest_locks(*it->second);
        send_held_modifiers();
        send_ui_info(name);
        const auto* info = inventory_->find(name);
        banner_->show(name, number_of(name), info ? guest_colour(*info) : colour_from_name(name));
        log::info("showing guest {}", name);
    }
    overlay_by_choice_ = false;
    wlr_scene_node_set_enabled(overlay_layer_, false);
    for (auto& o : outputs_)
        o->drop_overlay_picture(); // a full-output image each, repainted when the overlay returns
    it->second->on_host_pointer(cursor_->x, cursor_->y);
    update_cursor_image();
    present_now();
    schedule_memory_release();
    return true;
}

void Server::show_overlay(bool by_choice) {
    if (!shown_guest_.empty()) {
        release_guest_input(shown_guest_);
        if (GuestView* v = shown_view())
            v->set_visible(false);
        shown_guest_.clear();
    }
    overlay_by_choice_ = by_choice;
    banner_->hide();
    wlr_scene_node_set_enabled(overlay_layer_, true);
    refresh_overlay(true);
    update_cursor_image();
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

void Server::release_guest_input(const std::string& name) {
    key_repeater_->stop();
    if (auto* conn = displays_ ? displays_->connection(name) : nullptr)
        for (std::uint32_t id : displays_->graphic_consoles(name))
            conn->release_all_input(id);
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

// The guest being shown gets the modifiers held right now (Shift held across a switch stays held).
void Server::send_held_modifiers() {
    wlr_keyboard* kb = wlr_seat_get_keyboard(seat_);
    if (!kb || !kb->xkb_state)
        return;
    static constexpr uint32_t modifiers[] = {KEY_LEFTCTRL, KEY_RIGHTCTRL, KEY_LEFTSHIFT, KEY_RIGHTSHIFT,
                                             KEY_LEFTALT,  KEY_RIGHTALT,  KEY_LEFTMETA,  KEY_RIGHTMETA};
    for (std::size_t i = 0; i < kb->num_keycodes; ++i) {
        const uint32_t code = kb->keycodes[i];
        if (std::find(std::begin(modifiers), std::end(modifiers), code) == std::end(modifiers))
            continue;
        if (xkb_state_key_get_one_sym(kb->xkb_state, code + 8) == host_keysym_)
            continue; // the host key is never the guest's
        guest_key(code, true);
    }
}

void Server::update_cursor_image() {
    if (!shown_guest_.empty() && !seat_->pointer_state.focused_surface)
        wlr_cursor_set_image(cursor_, nullptr, 0, 0, 0, 0, 0, 0); // the guest draws its own cursor
    else if (!seat_->pointer_state.focused_surface && !pointers_.empty())
        if (wlr_xcursor_manager* theme = cursor_theme())
            wlr_xcursor_manager_set_cursor_image(theme, "left_ptr", cursor_);
}

wlr_xcursor_manager* Server::cursor_theme() {
    if (!cursor_theme_) {
        if (warmup_)
            cursor_theme_ = warmup_->take_cursor_theme();
        if (!cursor_theme_)
            cursor_theme_ = load_cursor_theme();
        if (!cursor_theme_)
            log::error("no cursor theme: the host pointer is invisible");
    }
    return cursor_theme_.get();
}

// Lock keys follow the host: the guest's LEDs say what it thinks, a tap fixes a difference.
void Server::sync_guest_locks(GuestView& view) {
    auto* conn = displays_->connection(view.guest());
    wlr_keyboard* kb = wlr_seat_get_keyboard(seat_);
    auto consoles = displays_->graphic_consoles(view.guest());
    if (!conn || !kb || !kb->xkb_state || consoles.empty())
        return;
    const auto* console = conn->console(consoles.front());
    if (!console)
        return;
    struct Lock {
        const char* led;
        std::uint32_t guest_bit;
        std::uint32_t evdev;
    };
    for (const Lock& l : {Lock{XKB_LED_NAME_CAPS, guestview::led_caps_lock, KEY_CAPSLOCK},
                          Lock{XKB_LED_NAME_NUM, guestview::led_num_lock, KEY_NUMLOCK}}) {
        const bool host_on = xkb_state_led_name_is_active(kb->xkb_state, l.led) > 0;
        const bool guest_on = (console->keyboard_modifiers & l.guest_bit) != 0;
        if (host_on != guest_on)
            send_guest_chord({l.evdev});
    }
}

void Server::send_guest_chord(std::initializer_list<uint32_t> evdev_keys) {
    auto* conn = shown_connection();
    auto consoles = displays_ ? displays_->graphic_consoles(shown_guest_) : std::vector<std::uint32_t>{};
    if (!conn || consoles.empty())
        return;
    for (uint32_t k : evdev_keys)
        if (auto q = guestview::evdev_to_qnum(k))
            conn->key(consoles.front(), *q, true);
    for (auto it = std::rbegin(evdev_keys); it != std::rend(evdev_keys); ++it)
        if (auto q = guestview::evdev_to_qnum(*it))
            conn->key(consoles.front(), *q, false);
}

bool Server::handle_host_binding(xkb_keysym_t sym) {
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
            send_guest_chord({KEY_LEFTCTRL, KEY_LEFTALT, KEY_DELETE});
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
        send_guest_chord({KEY_LEFTCTRL, KEY_LEFTALT, KEY_DELETE});
        return true;
    }
    if (sym >= XKB_KEY_F1 && sym <= XKB_KEY_F12) {
        static constexpr uint32_t fkeys[] = {KEY_F1, KEY_F2, KEY_F3, KEY_F4,  KEY_F5,  KEY_F6,
                                             KEY_F7, KEY_F8, KEY_F9, KEY_F10, KEY_F11, KEY_F12};
        send_guest_chord({KEY_LEFTCTRL, KEY_LEFTALT, fkeys[sym - XKB_KEY_F1]});
        return true;
    }
    return false;
}

void Server::guest_key(uint32_t keycode, bool pressed) {
    auto* conn = shown_connection();
    GuestView* view = shown_view();
    if (!conn || !view)
        return;
    const auto qnum = guestview::evdev_to_qnum(keycode);
    if (!qnum) {
        log::debug("guest {}: no QEMU key number for evdev key {}", shown_guest_, keycode);
        return;
    }
    const auto console = view->console_at(cursor_->x, cursor_->y).value_or(0);
    conn->key(console, *qnum, pressed);
    static constexpr uint32_t no_repeat[] = {KEY_LEFTCTRL, KEY_RIGHTCTRL, KEY_LEFTSHIFT, KEY_RIGHTSHIFT, KEY_LEFTALT,
                                             KEY_RIGHTALT, KEY_LEFTMETA, KEY_RIGHTMETA, KEY_CAPSLOCK,   KEY_NUMLOCK,
                                             KEY_SCROLLLOCK};
    const bool modifier = std::find(std::begin(no_repeat), std::end(no_repeat), keycode) != std::end(no_repeat);
    if (pressed && !modifier)
        key_repeater_->pressed(keycode);
    else if (!pressed)
        key_repeater_->released(keycode);
}

void Server::handle_key(wlr_input_device* device, wlr_event_keyboard_key* event) {
    wlr_keyboard* kb = device->keyboard;
    const uint32_t xkb_code = event->keycode + 8; // evdev -> xkb
    const xkb_keysym_t* syms = nullptr;
    const int nsyms = xkb_state_key_get_syms(kb->xkb_state, xkb_code, &syms);
    const uint32_t mods = wlr_keyboard_get_modifiers(kb);
    const bool pressed = event->state == WL_KEYBOARD_KEY_STATE_PRESSED;
    const xkb_keysym_t base_sym = xkb_state_key_get_one_sym(kb->xkb_state, xkb_code);
    const bool is_host_key = std::any_of(syms, syms + std::max(nsyms, 0), [&](xkb_keysym_t s) { return s == host_keysym_; });

    // The host key is the shell's: while a guest is shown it never reaches the guest.
    if (is_host_key) {
        host_key_down_ = pressed;
        if (!shown_guest_.empty())
            return;
    }
    if (pressed) {
        // Reserved before anything else: no guest or client can capture these.
        if (host_key_down_ && !is_host_key) {
            xkb_keysym_t level0 = XKB_KEY_NoSymbol;
            if (const xkb_keysym_t* l0 = nullptr;
                xkb_keymap_key_get_syms_by_level(kb->keymap, xkb_code, 0, 0, &l0) > 0)
                level0 = l0[0];
            if (handle_host_binding(level0 != XKB_KEY_NoSymbol ? level0 : base_sym)) {
                host_combo_keys_.push_back(event->keycode);
                return;
            }
        }
        for (int i = 0; i < nsyms; ++i)
            if (handle_keybinding(syms[i], mods))
                return;
    } else if (auto it = std::find(host_combo_keys_.begin(), host_combo_keys_.end(), event->keycode);
               it != host_combo_keys_.end()) {
        host_combo_keys_.erase(it);
        return;
    }
    if (focused_view()) {
        wlr_seat_set_keyboard(seat_, device);
        wlr_seat_keyboard_notify_key(seat_, event->time_msec, event->keycode, event->state);
        return;
    }
    if (!shown_guest_.empty()) {
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
        handle_overlay_key(base_sym != XKB_KEY_NoSymbol ? xkb_keysym_to_lower(base_sym)
                                                        : (nsyms > 0 ? syms[0] : XKB_KEY_NoSymbol),
                           mods);
}

void Server::guest_pointer_motion(double dx, double dy) {
    GuestView* view = shown_view();
    auto* conn = shown_connection();
    if (!view || !conn)
        return;
    view->on_host_pointer(cursor_->x, cursor_->y);
    const auto console = view->console_at(cursor_->x, cursor_->y);
    if (!console)
        return;
    const auto* info = conn->console(*console);
    if (info && info->mouse_is_absolute) {
        if (auto p = view->to_guest(cursor_->x, cursor_->y))
            conn->pointer_absolute(p->console, static_cast<std::uint32_t>(p->x), static_cast<std::uint32_t>(p->y));
    } else if (dx != 0 || dy != 0) {
        conn->pointer_relative(*console, static_cast<std::int32_t>(std::lround(dx)),
                               static_cast<std::int32_t>(std::lround(dy)));
    }
}

void Server::guest_pointer_button(wlr_event_pointer_button* e) {
    auto* conn = shown_connection();
    GuestView* view = shown_view();
    if (!conn || !view)
        return;
    std::optional<MouseButton> b;
    switch (e->button) {
    case BTN_LEFT: b = MouseButton::Left; break;
    case BTN_MIDDLE: b = MouseButton::Middle; break;
    case BTN_RIGHT: b = MouseButton::Right; break;
    case BTN_SIDE: b = MouseButton::Side; break;
    case BTN_EXTRA: b = MouseButton::Extra; break;
    default: return;
    }
    conn->button(view->console_at(cursor_->x, cursor_->y).value_or(0), *b, e->state == WLR_BUTTON_PRESSED);
}

void Server::guest_pointer_axis(wlr_event_pointer_axis* e) {
    auto* conn = shown_connection();
    GuestView* view = shown_view();
    if (!conn || !view || e->delta == 0)
        return;
    const bool vertical = e->orientation == WLR_AXIS_ORIENTATION_VERTICAL;
    const MouseButton dir = vertical ? (e->delta > 0 ? MouseButton::WheelDown : MouseButton::WheelUp)
                                     : (e->delta > 0 ? MouseButton::WheelRight : MouseButton::WheelLeft);
    // One notch per discrete step; smooth scrolling (touchpads) sends one notch per event.
    const int notches = std::max(1, std::abs(e->delta_discrete));
    const auto console = view->console_at(cursor_->x, cursor_->y).value_or(0);
    for (int i = 0; i < notches; ++i)
        conn->wheel(console, dir);
}

} // namespace phyllome::compositor
