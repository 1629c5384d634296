// A keyboard: xkb keymap and repeat from the config; keys go to compositor bindings first,
// then to the focused client or the overlay.
#pragma once

#include "compositor/listener.hpp"
#include "compositor/wlr.hpp"
#include "config/config.hpp"

namespace phyllome::compositor {

class Server;

class Keyboard {
public:
    Keyboard(Server& server, wlr_input_device* device);
    Keyboard(const Keyboard&) = delete;
    Keyboard& operator=(const Keyboard&) = delete;

    wlr_input_device* device() const { return device_; }
    // Keymap and repeat from the server's config (at start and on reload).
    void apply_config();

private:
    void on_key(wlr_event_keyboard_key* event);

    Server& server_;
    wlr_input_device* device_;
    Listener<wlr_event_keyboard_key> key_;
    Listener<void> modifiers_;
    Listener<void> destroy_;
};

} // namespace phyllome::compositor
