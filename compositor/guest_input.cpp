#include "compositor/guest_input.hpp"

#include <linux/input-event-codes.h>

#include <algorithm>
#include <cmath>
#include <optional>

#include "compositor/guest_view.hpp"
#include "config/log.hpp"
#include "guestview/input/evdev_to_qnum.hpp"

namespace phyllome::compositor {

using guestview::MouseButton;

GuestInput::GuestInput(guestview::GuestDisplays& displays, GuestView& view) : displays_(displays), view_(view) {}

const std::string& GuestInput::guest() const { return view_.guest(); }

guestview::DisplayConnection* GuestInput::connection() const { return displays_.connection(view_.guest()); }

std::uint32_t GuestInput::console_at(double lx, double ly) const { return view_.console_at(lx, ly).value_or(0); }

void GuestInput::key(std::uint32_t keycode, bool pressed, double lx, double ly) {
    auto* conn = connection();
    if (!conn)
        return;
    const auto qnum = guestview::evdev_to_qnum(keycode);
    if (!qnum) {
        log::debug("guest {}: no QEMU key number for evdev key {}", guest(), keycode);
        return;
    }
    conn->key(console_at(lx, ly), *qnum, pressed);
}

void GuestInput::chord(std::initializer_list<std::uint32_t> evdev_keys) {
    auto* conn = connection();
    const auto consoles = displays_.graphic_consoles(guest());
    if (!conn || consoles.empty())
        return;
    for (std::uint32_t k : evdev_keys)
        if (auto q = guestview::evdev_to_qnum(k))
            conn->key(consoles.front(), *q, true);
    for (auto it = std::rbegin(evdev_keys); it != std::rend(evdev_keys); ++it)
        if (auto q = guestview::evdev_to_qnum(*it))
            conn->key(consoles.front(), *q, false);
}

void GuestInput::pointer_motion(double lx, double ly, double dx, double dy) {
    auto* conn = connection();
    if (!conn)
        return;
    view_.on_host_pointer(lx, ly);
    const auto console = view_.console_at(lx, ly);
    if (!console)
        return;
    const auto* info = conn->console(*console);
    if (info && info->mouse_is_absolute) {
        if (auto p = view_.to_guest(lx, ly))
            conn->pointer_absolute(p->console, static_cast<std::uint32_t>(p->x), static_cast<std::uint32_t>(p->y));
    } else if (dx != 0 || dy != 0) {
        conn->pointer_relative(*console, static_cast<std::int32_t>(std::lround(dx)),
                               static_cast<std::int32_t>(std::lround(dy)));
    }
}

void GuestInput::button(std::uint32_t button, bool pressed, double lx, double ly) {
    auto* conn = connection();
    if (!conn)
        return;
    std::optional<MouseButton> b;
    switch (button) {
    case BTN_LEFT: b = MouseButton::Left; break;
    case BTN_MIDDLE: b = MouseButton::Middle; break;
    case BTN_RIGHT: b = MouseButton::Right; break;
    case BTN_SIDE: b = MouseButton::Side; break;
    case BTN_EXTRA: b = MouseButton::Extra; break;
    default: return;
    }
    conn->button(console_at(lx, ly), *b, pressed);
}

void GuestInput::axis(bool vertical, double delta, std::int32_t delta_discrete, double lx, double ly) {
    auto* conn = connection();
    if (!conn || delta == 0)
        return;
    const MouseButton dir = vertical ? (delta > 0 ? MouseButton::WheelDown : MouseButton::WheelUp)
                                     : (delta > 0 ? MouseButton::WheelRight : MouseButton::WheelLeft);
    const int notches = std::max(1, std::abs(delta_discrete));
    const auto console = console_at(lx, ly);
    for (int i = 0; i < notches; ++i)
        conn->wheel(console, dir);
}

LockKeys lock_keys_from_leds(std::uint32_t leds) {
    return {(leds & guestview::led_caps_lock) != 0, (leds & guestview::led_num_lock) != 0,
            (leds & guestview::led_scroll_lock) != 0};
}

std::optional<std::uint32_t> GuestInput::leds() const {
    auto* conn = connection();
    const auto consoles = displays_.graphic_consoles(guest());
    if (!conn || consoles.empty())
        return std::nullopt;
    const auto* console = conn->console(consoles.front());
    return console ? std::optional(console->keyboard_modifiers) : std::nullopt;
}

void GuestInput::sync_locks(LockKeys host) {
    const auto guest_leds = leds();
    if (!guest_leds)
        return;
    const LockKeys guest = lock_keys_from_leds(*guest_leds);
    if (host.caps != guest.caps)
        chord({KEY_CAPSLOCK});
    if (host.num != guest.num)
        chord({KEY_NUMLOCK});
    if (host.scroll != guest.scroll)
        chord({KEY_SCROLLLOCK});
}

void GuestInput::release_all() {
    if (auto* conn = connection())
        for (std::uint32_t id : displays_.graphic_consoles(guest()))
            conn->release_all_input(id);
}

} // namespace phyllome::compositor
