// Shared helpers for guestview tests: an owned event loop, pumping it until a condition holds,
// and a temporary directory.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>

#include <wayland-server-core.h>

namespace phyllome::guestview::testing {

struct LoopDestroyer {
    void operator()(wl_event_loop* loop) const { wl_event_loop_destroy(loop); }
};
using LoopPtr = std::unique_ptr<wl_event_loop, LoopDestroyer>;

inline LoopPtr make_loop() {
    LoopPtr loop{wl_event_loop_create()};
    if (!loop)
        throw std::runtime_error("wl_event_loop_create failed");
    return loop;
}

// Dispatches `loop` (blocking in epoll, never spinning) until `done()` or the deadline.
template <typename Predicate>
bool pump_until(wl_event_loop* loop, Predicate done,
                std::chrono::milliseconds timeout = std::chrono::seconds{10}) {
    using clock = std::chrono::steady_clock;
    const auto deadline = clock::now() + timeout;
    while (!done()) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
        if (left.count() <= 0)
            return false;
        wl_event_loop_dispatch(loop, static_cast<int>(std::min<long>(left.count(), 100) + 1));
    }
    return true;
}

// Dispatches `loop` for the whole duration, for asserting that something does NOT happen.
inline void pump_for(wl_event_loop* loop, std::chrono::milliseconds duration) {
    pump_until(loop, [] { return false; }, duration);
}

class TempDir {
public:
    TempDir() {
        std::string pattern = (std::filesystem::temp_directory_path() / "guestview-test-XXXXXX").string();
        if (mkdtemp(pattern.data()) == nullptr)
            throw std::runtime_error("mkdtemp failed");
        path_ = pattern;
    }
    ~TempDir() {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

} // namespace phyllome::guestview::testing
