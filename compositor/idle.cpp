#include "compositor/idle.hpp"

#include <algorithm>

#include "compositor/wlr_core.hpp"

namespace phyllome::compositor {

IdleWatch::IdleWatch(wl_display* display, wlr_seat* seat, std::function<void()> on_idle)
    : notifier_(wlr_require(wlr_idle_notifier_v1_create(display), "idle notifier")), seat_(seat),
      on_idle_(std::move(on_idle)), last_activity_(std::chrono::steady_clock::now()) {
    timer_.reset(wl_event_loop_add_timer(
        wl_display_get_event_loop(display),
        [](void* data) {
            static_cast<IdleWatch*>(data)->on_timer();
            return 0;
        },
        this));
}

void IdleWatch::set_timeout(std::chrono::seconds timeout) {
    timeout_ = timeout;
    restart();
}

void IdleWatch::activity() {
    wlr_idle_notifier_v1_notify_activity(notifier_, seat_);
    last_activity_ = std::chrono::steady_clock::now();
    if (!armed_ && timeout_.count() > 0)
        arm(timeout_); // idle before: count again from now
}

void IdleWatch::restart() {
    last_activity_ = std::chrono::steady_clock::now();
    if (timeout_.count() > 0)
        arm(timeout_);
    else
        arm(std::chrono::milliseconds(0));
}

void IdleWatch::arm(std::chrono::milliseconds in) {
    armed_ = in.count() > 0;
    wl_event_source_timer_update(timer_.get(), static_cast<int>(in.count()));
}

void IdleWatch::on_timer() {
    armed_ = false;
    if (timeout_.count() <= 0)
        return;
    // The timer is not moved on every event; it checks here how long the user has really been away.
    const auto away = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                            last_activity_);
    if (away < timeout_) {
        arm(std::max(std::chrono::milliseconds(1), timeout_ - away));
        return;
    }
    on_idle_();
}

} // namespace phyllome::compositor
