// A keyboard: xkb keymap and repeat from the config; its keys go to the seat, which routes them.
#pragma once

#include "compositor/listener.hpp"
#include "compositor/wlr.hpp"
#include "config/config.hpp"

namespace phyllome::compositor {

class Seat;

class Keyboard {
public:
    // `config` is the server's, read again at every apply_config().
    Keyboard(Seat& seat, const config::KeyboardConfig& config, wlr_input_device* device);
    Keyboard(const Keyboard&) = delete;
    Keyboard& operator=(const Keyboard&) = delete;

    wlr_input_device* device() const { return device_; }
    // Keymap and repeat from the config (at start and on reload).
    void apply_config();

private:
    Seat& seat_;
    const config::KeyboardConfig& config_;
    wlr_input_device* device_;
    wlr_keyboard* keyboard_;
    Listener<wlr_keyboard_key_event> key_;
    Listener<void> modifiers_;
    Listener<void> destroy_;
};

} // namespace phyllome::compositor
