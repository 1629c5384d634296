// Idle: ext-idle-notify-v1 for clients such as swayidle (every input event is activity), and
// the shell's own timer from `[lock] idle_timeout_s`, which calls back once the user has been
// away that long. Input only: a guest on screen does not keep the session awake.
#pragma once

#include <chrono>
#include <functional>

#include "compositor/wlr.hpp"
#include "guestview/event_source.hpp"

namespace phyllome::compositor {

class IdleWatch {
public:
    IdleWatch(wl_display* display, wlr_seat* seat, std::function<void()> on_idle);
    IdleWatch(const IdleWatch&) = delete;
    IdleWatch& operator=(const IdleWatch&) = delete;

    // 0: the shell's timer is off (idle-notify clients still get their notifications).
    void set_timeout(std::chrono::seconds timeout);
    std::chrono::seconds timeout() const { return timeout_; }
    // An input event. Cheap: called for every pointer motion, so it only notes the time.
    void activity();
    // The timer starts over without telling idle-notify clients (after an unlock).
    void restart();

private:
    void on_timer();
    void arm(std::chrono::milliseconds in);

    wlr_idle_notifier_v1* notifier_;
    wlr_seat* seat_;
    std::function<void()> on_idle_;
    std::chrono::seconds timeout_{0};
    std::chrono::steady_clock::time_point last_activity_;
    bool armed_ = false; // the timer waits for the timeout; off once it fired until activity
    guestview::EventSourcePtr timer_;
};

} // namespace phyllome::compositor
