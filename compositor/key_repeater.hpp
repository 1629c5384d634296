// Repeats a held key into a guest at the configured rate. QEMU's PS/2 keyboard has no
// typematic repeat of its own (Windows guests rely on it), while guests that repeat in
// software ignore a press of a key that is already down, so repeating is safe for all.
#pragma once

#include <cstdint>
#include <functional>

#include "guestview/event_source.hpp"

struct wl_event_loop;
struct wl_event_source;

namespace phyllome::compositor {

class KeyRepeater {
public:
    using Send = std::function<void(std::uint32_t keycode)>;
    KeyRepeater(wl_event_loop* loop, Send send);
    ~KeyRepeater();
    KeyRepeater(const KeyRepeater&) = delete;
    KeyRepeater& operator=(const KeyRepeater&) = delete;

    void set_rate(int rate_per_s, int delay_ms);
    // Starts repeating `keycode` (replacing any other), or stops for a release of it.
    void pressed(std::uint32_t keycode);
    void released(std::uint32_t keycode);
    void stop();
    bool active() const { return active_; }

private:
    static int on_timer(void* data);

    guestview::EventSourcePtr timer_;
    Send send_;
    int rate_ = 25, delay_ = 600;
    std::uint32_t keycode_ = 0;
    bool active_ = false;
};

} // namespace phyllome::compositor
