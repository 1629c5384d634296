// The keyboard and pointer of one shown guest: evdev keys to QEMU key numbers, the host
// pointer to the console under it (absolute or relative), buttons and wheel notches, and the
// lock keys and held modifiers a guest must share with the host when it comes to the front.
// Plain values in, no wlroots: the seat translates its events.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>

#include "compositor/lock_keys.hpp"
#include "guestview/guest_displays.hpp"

namespace phyllome::compositor {

class GuestView;

class GuestInput {
public:
    GuestInput(guestview::GuestDisplays& displays, GuestView& view);

    const std::string& guest() const;
    // `keycode` is evdev; keys without a QEMU number are dropped (logged at debug level).
    // The console is the one under the host pointer at (lx, ly).
    void key(std::uint32_t keycode, bool pressed, double lx, double ly);
    // Pressed in order, released in reverse, on the guest's first console.
    void chord(std::initializer_list<std::uint32_t> evdev_keys);
    // The host pointer moved to (lx, ly) by (dx, dy).
    void pointer_motion(double lx, double ly, double dx, double dy);
    // `button` is the evdev code (BTN_*); others than the five QEMU knows are dropped.
    void button(std::uint32_t button, bool pressed, double lx, double ly);
    // One notch per discrete step; smooth scrolling (touchpads) sends one notch per event.
    void axis(bool vertical, double delta, std::int32_t delta_discrete, double lx, double ly);
    // Lock keys follow the host: a tap fixes a difference between the host's locks and the guest's.
    void sync_locks(LockKeys host);
    // The guest's keyboard LEDs (QEMU's Keyboard.Modifiers), or null before its console is read.
    std::optional<std::uint32_t> leds() const;
    // Releases every key and button the guest still holds (it leaves the front).
    void release_all();

private:
    guestview::DisplayConnection* connection() const;
    std::uint32_t console_at(double lx, double ly) const;

    guestview::GuestDisplays& displays_;
    GuestView& view_;
};

} // namespace phyllome::compositor
