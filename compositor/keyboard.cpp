#include "compositor/keyboard.hpp"

#include "compositor/server.hpp"
#include "config/log.hpp"

namespace phyllome::compositor {

xkb_keymap* create_keymap(const config::KeyboardConfig& cfg) {
    xkb_context* ctx = xkb_context_new(XKB_CONTEXT_NO_FLAGS);
    if (!ctx)
        return nullptr;
    auto or_null = [](const std::string& s) { return s.empty() ? nullptr : s.c_str(); };
    xkb_rule_names names{};
    names.model = or_null(cfg.model);
    names.layout = or_null(cfg.layout);
    names.variant = or_null(cfg.variant);
    names.options = or_null(cfg.options);
    xkb_keymap* keymap = xkb_keymap_new_from_names(ctx, &names, XKB_KEYMAP_COMPILE_NO_FLAGS);
    if (!keymap) {
        log::error("keyboard: layout '{}' variant '{}' options '{}' does not compile; using the default layout",
                   cfg.layout, cfg.variant, cfg.options);
        xkb_rule_names defaults{};
        keymap = xkb_keymap_new_from_names(ctx, &defaults, XKB_KEYMAP_COMPILE_NO_FLAGS);
    }
    xkb_context_unref(ctx);
    return keymap;
}

void Keyboard::apply_config() {
    const auto& cfg = server_.config().keyboard;
    if (xkb_keymap* keymap = create_keymap(cfg)) {
        wlr_keyboard_set_keymap(device_->keyboard, keymap);
        xkb_keymap_unref(keymap);
    }
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
