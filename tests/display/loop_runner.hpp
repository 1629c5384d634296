// Drives a wl_event_loop in tests until a condition holds or a deadline passes.
#pragma once

#include <wayland-server-core.h>

#include <algorithm>
#include <chrono>
#include <functional>

namespace phyllome::guestview::testing {

class LoopRunner {
public:
    LoopRunner() : loop_(wl_event_loop_create()) {}
    ~LoopRunner() { wl_event_loop_destroy(loop_); }
    LoopRunner(const LoopRunner&) = delete;
    LoopRunner& operator=(const LoopRunner&) = delete;

    wl_event_loop* loop() const { return loop_; }

    // Dispatches until `done()` is true; false if `timeout` passed first.
    bool run_until(const std::function<bool()>& done,
                   std::chrono::milliseconds timeout = std::chrono::milliseconds(5000)) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (!done()) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
            if (left.count() <= 0)
                return false;
            wl_event_loop_dispatch(loop_, static_cast<int>(std::min<long long>(left.count(), 100)));
            wl_event_loop_dispatch_idle(loop_);
        }
        return true;
    }

private:
    wl_event_loop* loop_;
};

} // namespace phyllome::guestview::testing
