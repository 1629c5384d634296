// Drives the test process's own wl_event_loop (the fake QEMU peers live on it) while waiting
// for the shell: every wait in a fake-peer test pumps it.
#pragma once

#include <chrono>
#include <functional>

#include <wayland-server-core.h>

namespace phyllome::test {

// Dispatches `loop` for `budget`.
inline void pump_loop(wl_event_loop* loop, std::chrono::milliseconds budget) {
    const auto end = std::chrono::steady_clock::now() + budget;
    for (;;) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now()).count();
        if (left <= 0)
            break;
        wl_event_loop_dispatch(loop, static_cast<int>(left));
        wl_event_loop_dispatch_idle(loop);
    }
}

// Pumps `loop` until `done()` holds; false if `deadline` passed first.
inline bool pump_loop_until(wl_event_loop* loop, const std::function<bool()>& done,
                            std::chrono::milliseconds deadline) {
    const auto end = std::chrono::steady_clock::now() + deadline;
    while (std::chrono::steady_clock::now() < end) {
        if (done())
            return true;
        pump_loop(loop, std::chrono::milliseconds(20));
    }
    return done();
}

} // namespace phyllome::test
