#include "compositor/seat.hpp"

#include <linux/input-event-codes.h>

#include <algorithm>
#include <stdexcept>

#include "compositor/input_config.hpp"
#include "compositor/keyboard.hpp"
#include "compositor/scene_buffer_util.hpp"
#include "compositor/wlr_core.hpp"
#include "config/log.hpp"

namespace phyllome::compositor {
Seat::Seat(const SeatParts& parts, const config::Config& config, InputTarget& target)
    : parts_(parts), config_(config), target_(target) {
    cursor_ = wlr_require(wlr_cursor_create(), "wlr_cursor_create");
    wlr_cursor_attach_output_layout(cursor_, parts_.output_layout);
    cursor_motion_.connect(&cursor_->events.motion, [this](wlr_pointer_motion_event* e) {
        wlr_cursor_move(cursor_, &e->pointer->base, e->delta_x, e->delta_y);
        on_cursor_motion(e->time_msec, e->delta_x, e->delta_y);
    });
    cursor_motion_absolute_.connect(&cursor_->events.motion_absolute, [this](wlr_pointer_motion_absolute_event* e) {
        const double old_x = cursor_->x, old_y = cursor_->y;
        wlr_cursor_warp_absolute(cursor_, &e->pointer->base, e->x, e->y);
        on_cursor_motion(e->time_msec, cursor_->x - old_x, cursor_->y - old_y);
    });
    cursor_button_.connect(&cursor_->events.button, [this](wlr_pointer_button_event* e) { on_cursor_button(e); });
    cursor_axis_.connect(&cursor_->events.axis, [this](wlr_pointer_axis_event* e) { on_cursor_axis(e); });
    cursor_frame_.connect(&cursor_->events.frame, [this](void*) { wlr_seat_pointer_notify_frame(seat_); });
    touch_down_.connect(&cursor_->events.touch_down, [this](wlr_touch_down_event* e) { on_touch_down(e); });
    touch_up_.connect(&cursor_->events.touch_up, [this](wlr_touch_up_event* e) {
        wlr_seat_touch_notify_up(seat_, e->time_msec, e->touch_id);
    });
    touch_motion_.connect(&cursor_->events.touch_motion, [this](wlr_touch_motion_event* e) { on_touch_motion(e); });

    seat_ = wlr_require(wlr_seat_create(parts_.display, "seat0"), "wlr_seat_create");
    request_set_cursor_.connect(&seat_->events.request_set_cursor,
                                [this](wlr_seat_pointer_request_set_cursor_event* e) {
                                    if (seat_->pointer_state.focused_client == e->seat_client)
                                        wlr_cursor_set_surface(cursor_, e->surface, e->hotspot_x, e->hotspot_y);
                                });

    // On-screen keyboards and test drivers (wtype): ProtocolPolicy hides these globals unless
    // [security] allows them, since any client could otherwise type into the user's guests.
    auto* vk = wlr_require(wlr_virtual_keyboard_manager_v1_create(parts_.display), "virtual keyboard manager");
    new_virtual_keyboard_.connect(&vk->events.new_virtual_keyboard,
                                  [this](wlr_virtual_keyboard_v1* kb) { on_new_input(&kb->keyboard.base, true); });
    auto* vp = wlr_require(wlr_virtual_pointer_manager_v1_create(parts_.display), "virtual pointer manager");
    new_virtual_pointer_.connect(&vp->events.new_virtual_pointer, [this](wlr_virtual_pointer_v1_new_pointer_event* e) {
        on_new_input(&e->new_pointer->pointer.base);
    });
    new_input_.connect(&parts_.backend->events.new_input, [this](wlr_input_device* d) { on_new_input(d); });

    read_host_key();
    key_repeater_ = std::make_unique<KeyRepeater>(wl_display_get_event_loop(parts_.display),
                                                  [this](std::uint32_t keycode) { guest_key(keycode, true); });
    key_repeater_->set_rate(config_.keyboard.repeat_rate, config_.keyboard.repeat_delay);
    update_capabilities();
}

Seat::~Seat() {
    key_repeater_.reset();
    keyboards_.clear();
    pointers_.clear();
    touch_devices_.clear();
    cursor_theme_.reset();
    if (cursor_)
        wlr_cursor_destroy(cursor_);
    // The seat is a Wayland global: wl_display_destroy takes it with the display.
}

void Seat::apply_config() {
    read_host_key();
    key_repeater_->set_rate(config_.keyboard.repeat_rate, config_.keyboard.repeat_delay);
    keymap_ = compile_keymap(config_.keyboard);
    keysym_to_evdev_.reset(); // rebuilt from the new keymap when next needed
    for (auto& k : keyboards_)
        if (!is_virtual_keyboard(k->device()))
            k->apply_config();
    for (auto* list : {&pointers_, &touch_devices_})
        for (auto& t : *list)
            apply_pointer_config(t->device, config_.pointer);
}

void Seat::read_host_key() {
    if (const xkb_keysym_t host = xkb_keysym_from_name(config_.hotkeys.host_key.c_str(), XKB_KEYSYM_NO_FLAGS);
        host != XKB_KEY_NoSymbol)
        host_keysym_ = host;
    else
        log::error("hotkeys.host_key: '{}' is not a key name; using Control_R", config_.hotkeys.host_key);
}

void Seat::on_new_input(wlr_input_device* device, bool is_virtual) {
    switch (device->type) {
    case WLR_INPUT_DEVICE_KEYBOARD:
        if (is_virtual)
            virtual_keyboards_.push_back(device);
        keyboards_.push_back(std::make_unique<Keyboard>(*this, config_.keyboard, device));
        set_keyboard_locks(wlr_keyboard_from_input_device(device)); // a new keyboard shows the host's locks
        break;
    case WLR_INPUT_DEVICE_POINTER:
        add_pointer(device);
        break;
    case WLR_INPUT_DEVICE_TOUCH:
        add_touch(device);
        break;
    default:
        break;
    }
    update_capabilities();
}

void Seat::add_pointer(wlr_input_device* device) {
    apply_pointer_config(device, config_.pointer);
    wlr_cursor_attach_input_device(cursor_, device);
    track_device(pointers_, device);
    if (parts_.warmup)
        parts_.warmup->want_cursor_theme();
    update_cursor_image();
}

void Seat::add_touch(wlr_input_device* device) {
    apply_pointer_config(device, config_.pointer);
    wlr_cursor_attach_input_device(cursor_, device);
    track_device(touch_devices_, device);
}

void Seat::track_device(std::list<std::unique_ptr<TrackedDevice>>& list, wlr_input_device* device) {
    auto tracked = std::make_unique<TrackedDevice>();
    tracked->device = device;
    TrackedDevice* raw = tracked.get();
    tracked->destroy.connect(&device->events.destroy, [this, &list, raw](void*) {
        list.remove_if([raw](const auto& t) { return t.get() == raw; });
        update_capabilities();
    });
    list.push_back(std::move(tracked));
}

bool Seat::is_virtual_keyboard(wlr_input_device* device) const {
    return std::find(virtual_keyboards_.begin(), virtual_keyboards_.end(), device) != virtual_keyboards_.end();
}

void Seat::remove_keyboard(Keyboard& keyboard) {
    std::erase(virtual_keyboards_, keyboard.device());
    keyboards_.remove_if([&](const auto& k) { return k.get() == &keyboard; });
    update_capabilities();
}

void Seat::update_capabilities() {
    // The cursor is always there to click the overlay. The keyboard only with a keyboard: a
    // client bound without one gets no keymap, which lockers such as swaylock abort on.
    std::uint32_t caps = WL_SEAT_CAPABILITY_POINTER;
    if (!keyboards_.empty())
        caps |= WL_SEAT_CAPABILITY_KEYBOARD;
    if (!touch_devices_.empty())
        caps |= WL_SEAT_CAPABILITY_TOUCH;
    wlr_seat_set_capabilities(seat_, caps);
}

void Seat::clear_focus() {
    wlr_seat_keyboard_notify_clear_focus(seat_);
    wlr_seat_pointer_notify_clear_focus(seat_);
}

wlr_surface* Seat::view_surface_at(double lx, double ly, double& sx, double& sy) const {
    if (!target_.host_window())
        return nullptr; // only the window at the front gets the pointer, never one behind the overlay
    return scene_surface_at(parts_.view_layer, lx, ly, sx, sy);
}

void Seat::on_cursor_motion(std::uint32_t time_msec, double dx, double dy) {
    target_.input_activity();
    if (locked_pointer_motion(time_msec))
        return;
    double sx = 0, sy = 0;
    if (wlr_surface* surface = view_surface_at(cursor_->x, cursor_->y, sx, sy)) {
        wlr_seat_pointer_notify_enter(seat_, surface, sx, sy);
        wlr_seat_pointer_notify_motion(seat_, time_msec, sx, sy);
        return;
    }
    GuestInput* guest = target_.shown_guest_input();
    if (seat_->pointer_state.focused_surface) {
        wlr_seat_pointer_notify_clear_focus(seat_);
        update_cursor_image();
    } else if (!guest) {
        if (wlr_xcursor_manager* theme = cursor_theme())
            wlr_cursor_set_xcursor(cursor_, theme, "left_ptr");
    }
    if (guest)
        guest->pointer_motion(cursor_->x, cursor_->y, dx, dy);
}

void Seat::on_cursor_button(wlr_pointer_button_event* e) {
    target_.input_activity();
    if (locked_pointer_event([&] { wlr_seat_pointer_notify_button(seat_, e->time_msec, e->button, e->state); }))
        return;
    if (seat_->pointer_state.focused_surface) {
        wlr_seat_pointer_notify_button(seat_, e->time_msec, e->button, e->state);
        return;
    }
    if (GuestInput* guest = target_.shown_guest_input()) {
        guest->button(e->button, e->state == WL_POINTER_BUTTON_STATE_PRESSED, cursor_->x, cursor_->y);
        return;
    }
    if (e->state == WL_POINTER_BUTTON_STATE_PRESSED && e->button == BTN_LEFT && !target_.host_window())
        target_.overlay_click(cursor_->x, cursor_->y);
}

void Seat::on_cursor_axis(wlr_pointer_axis_event* e) {
    target_.input_activity();
    if (locked_pointer_event([&] {
            wlr_seat_pointer_notify_axis(seat_, e->time_msec, e->orientation, e->delta, e->delta_discrete, e->source,
                                         e->relative_direction);
        }))
        return;
    if (!seat_->pointer_state.focused_surface)
        if (GuestInput* guest = target_.shown_guest_input()) {
            guest->axis(e->orientation == WL_POINTER_AXIS_VERTICAL_SCROLL, e->delta, e->delta_discrete, cursor_->x,
                        cursor_->y);
            return;
        }
    wlr_seat_pointer_notify_axis(seat_, e->time_msec, e->orientation, e->delta, e->delta_discrete, e->source,
                                 e->relative_direction);
}

void Seat::on_touch_down(wlr_touch_down_event* e) {
    double lx = 0, ly = 0;
    wlr_cursor_absolute_to_layout_coords(cursor_, &e->touch->base, e->x, e->y, &lx, &ly);
    target_.input_activity();
    if (locked_touch(lx, ly, [&](wlr_surface* s, double sx, double sy) {
            wlr_seat_touch_notify_down(seat_, s, e->time_msec, e->touch_id, sx, sy);
        }))
        return;
    double sx = 0, sy = 0;
    if (wlr_surface* surface = view_surface_at(lx, ly, sx, sy)) {
        wlr_seat_touch_notify_down(seat_, surface, e->time_msec, e->touch_id, sx, sy);
        return;
    }
    if (!target_.host_window() && !target_.shown_guest_input())
        target_.overlay_click(lx, ly);
}

void Seat::on_touch_motion(wlr_touch_motion_event* e) {
    double lx = 0, ly = 0;
    wlr_cursor_absolute_to_layout_coords(cursor_, &e->touch->base, e->x, e->y, &lx, &ly);
    target_.input_activity();
    if (locked_touch(lx, ly, [&](wlr_surface*, double sx, double sy) {
            wlr_seat_touch_notify_motion(seat_, e->time_msec, e->touch_id, sx, sy);
        }))
        return;
    double sx = 0, sy = 0;
    if (view_surface_at(lx, ly, sx, sy))
        wlr_seat_touch_notify_motion(seat_, e->time_msec, e->touch_id, sx, sy);
}

void Seat::update_cursor_image() {
    if (seat_->pointer_state.focused_surface)
        return; // the client sets its own
    if (target_.shown_guest_input() && !target_.session_lock())
        wlr_cursor_unset_image(cursor_); // the guest draws its own cursor
    else if (!pointers_.empty())
        if (wlr_xcursor_manager* theme = cursor_theme())
            wlr_cursor_set_xcursor(cursor_, theme, "left_ptr");
}

wlr_xcursor_manager* Seat::cursor_theme() {
    if (!cursor_theme_) {
        if (parts_.warmup)
            cursor_theme_ = parts_.warmup->take_cursor_theme();
        if (!cursor_theme_)
            cursor_theme_ = load_cursor_theme();
        if (!cursor_theme_)
            log::error("no cursor theme: the host pointer is invisible");
    }
    return cursor_theme_.get();
}

} // namespace phyllome::compositor
