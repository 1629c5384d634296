// Host+key chords, pressed while the host key is held: the overlay, the previous or next guest
// or host window, a guest or window by its number, Ctrl+Alt+Delete or Ctrl+Alt+Fn into the shown guest, and the
// clipboard's copy and paste. A locked kiosk keeps only Ctrl+Alt+Delete and its admin key (its one guest has nowhere
// to copy to: Host+C and Host+V reach the guest as Ctrl+C and Ctrl+V).
#pragma once

#include <functional>
#include <string>

#include "compositor/guest_stage.hpp"
#include "compositor/wlr.hpp"
#include "config/config.hpp"

namespace phyllome::compositor {

enum class HostBinding {
    None,       // not a binding: the key goes on as usual
    Handled,
    KioskAdmin, // the kiosk's admin key: the caller unlocks the kiosk and shows the overlay
    Copy,       // the shown guest's clipboard into the shell's
    Paste,      // the shell's clipboard offered to the shown guest
};

// `sym` is the key's level-0 symbol; `refused` gets what to tell the user when a binding cannot
// do what it asks (no guest with that number).
HostBinding host_binding(xkb_keysym_t sym, const config::Config& config, bool kiosk_locked, GuestStage& stage,
                         const std::function<void(std::string)>& refused);

} // namespace phyllome::compositor
