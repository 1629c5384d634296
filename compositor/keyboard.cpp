#include "compositor/keyboard.hpp"

#include "compositor/server.hpp"
#include "config/log.hpp"

namespace phyllome::compositor {

void Keyboard::apply_config() {
    const auto& cfg = server_.config().keyboard;
    if (xkb_keymap* keymap = server_.keymap())
        wlr_keyboard_set_keymap(device_->keyboard, keymap);
    wlr_keyboard_set_repeat_info(device_->keyboard, cfg.repeat_rate, cfg.repeat_delay);
}

Keyboard::Keyboard(Server& server, wlr_input_device* device) : server_(server), device_(device) {
    // A virtual keyboard brings its own keymap; the user's layout is for real keyboards.
    if (!server_.is_virtual_keyboard(device_))
        apply_config();

    key_.connect(&device_->keyboard->events.key, [this](wlr_event_keyboard_key* e) { on_key(e); });
    modifiers_.connect(&device_->keyboard->events.modifiers, [this](void*) {
        wlr_seat_set_keyboard(server_.seat(), device_);
        wlr_seat_keyboard_notify_modifiers(server_.seat(), &device_->keyboard->modifiers);
    });
    destroy_.connect(&device_->events.destroy, [this](void*) { server_.remove_keyboard(*this); });
    wlr_seat_set_keyboard(server_.seat(), device_);
}

void Keyboard::on_key(wlr_event_keyboard_key* event) { server_.handle_key(device_, event); }

} // namespace phyllome::compositor
