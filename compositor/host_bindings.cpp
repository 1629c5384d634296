#include "compositor/host_bindings.hpp"

#include <linux/input-event-codes.h>

#include <fmt/format.h>

namespace phyllome::compositor {

HostBinding host_binding(xkb_keysym_t sym, const config::Config& config, bool kiosk_locked, GuestStage& stage,
                         const std::function<void(std::string)>& refused) {
    const auto& hk = config.hotkeys;
    auto is = [&](const std::string& name) {
        return !name.empty() && xkb_keysym_to_lower(xkb_keysym_from_name(name.c_str(), XKB_KEYSYM_CASE_INSENSITIVE)) ==
                                    xkb_keysym_to_lower(sym);
    };
    auto chord = [&](std::initializer_list<std::uint32_t> keys) {
        if (GuestInput* guest = stage.shown_input())
            guest->chord(keys);
        return HostBinding::Handled;
    };
    if (kiosk_locked) {
        if (!config.kiosk.admin_key.empty() && is(config.kiosk.admin_key))
            return HostBinding::KioskAdmin;
        return is(hk.ctrl_alt_delete) ? chord({KEY_LEFTCTRL, KEY_LEFTALT, KEY_DELETE}) : HostBinding::None;
    }
    if (is(hk.overlay)) {
        stage.show_overlay(true);
        return HostBinding::Handled;
    }
    if (is(hk.previous) || is(hk.next)) {
        stage.show_adjacent(is(hk.previous) ? -1 : 1);
        return HostBinding::Handled;
    }
    if (sym >= XKB_KEY_1 && sym <= XKB_KEY_9) {
        std::string error;
        if (!stage.show_number(static_cast<int>(sym - XKB_KEY_1) + 1, error))
            refused(error);
        return HostBinding::Handled;
    }
    if (is(hk.copy))
        return HostBinding::Copy;
    if (is(hk.paste))
        return HostBinding::Paste;
    if (is(hk.ctrl_alt_delete))
        return chord({KEY_LEFTCTRL, KEY_LEFTALT, KEY_DELETE});
    if (sym >= XKB_KEY_F1 && sym <= XKB_KEY_F12) {
        static constexpr std::uint32_t fkeys[] = {KEY_F1, KEY_F2, KEY_F3, KEY_F4,  KEY_F5,  KEY_F6,
                                                  KEY_F7, KEY_F8, KEY_F9, KEY_F10, KEY_F11, KEY_F12};
        return chord({KEY_LEFTCTRL, KEY_LEFTALT, fkeys[sym - XKB_KEY_F1]});
    }
    return HostBinding::None;
}

} // namespace phyllome::compositor
