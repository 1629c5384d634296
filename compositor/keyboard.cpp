#include "compositor/keyboard.hpp"

#include "compositor/seat.hpp"

namespace phyllome::compositor {

void Keyboard::apply_config() {
    if (xkb_keymap* keymap = seat_.keymap())
        wlr_keyboard_set_keymap(keyboard_, keymap);
    wlr_keyboard_set_repeat_info(keyboard_, config_.repeat_rate, config_.repeat_delay);
}

Keyboard::Keyboard(Seat& seat, const config::KeyboardConfig& config, wlr_input_device* device)
    : seat_(seat), config_(config), device_(device), keyboard_(wlr_keyboard_from_input_device(device)) {
    // A virtual keyboard brings its own keymap; the user's layout is for real keyboards.
    if (!seat_.is_virtual_keyboard(device_))
        apply_config();

    key_.connect(&keyboard_->events.key, [this](wlr_keyboard_key_event* e) { seat_.handle_key(device_, e); });
    modifiers_.connect(&keyboard_->events.modifiers, [this](void*) {
        wlr_seat_set_keyboard(seat_.wlr(), keyboard_);
        wlr_seat_keyboard_notify_modifiers(seat_.wlr(), &keyboard_->modifiers);
    });
    destroy_.connect(&device_->events.destroy, [this](void*) { seat_.remove_keyboard(*this); });
    wlr_seat_set_keyboard(seat_.wlr(), keyboard_);
}

} // namespace phyllome::compositor
