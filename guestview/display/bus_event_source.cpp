#include "guestview/display/bus_event_source.hpp"

#include <fmt/format.h>
#include <poll.h>
#include <time.h>

#include <algorithm>
#include <cstring>

namespace phyllome::guestview::detail {
namespace {

std::uint32_t to_wl_mask(int poll_events) {
    std::uint32_t mask = 0;
    if (poll_events & POLLIN)
        mask |= WL_EVENT_READABLE;
    if (poll_events & POLLOUT)
        mask |= WL_EVENT_WRITABLE;
    return mask;
}

std::uint64_t now_usec() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return std::uint64_t(ts.tv_sec) * 1000000u + std::uint64_t(ts.tv_nsec) / 1000u;
}

} // namespace

BusEventSource::BusEventSource(wl_event_loop* loop, sd_bus* bus, std::function<void(std::string)> on_closed)
    : bus_(bus), on_closed_(std::move(on_closed)) {
    fd_source_.reset(wl_event_loop_add_fd(loop, sd_bus_get_fd(bus), to_wl_mask(sd_bus_get_events(bus)), on_fd, this));
    timer_source_.reset(wl_event_loop_add_timer(loop, on_timer, this));
    rearm();
}

int BusEventSource::on_fd(int, std::uint32_t, void* data) {
    auto* self = static_cast<BusEventSource*>(data);
    if (self->process())
        self->rearm();
    return 0;
}

int BusEventSource::on_timer(void* data) { return on_fd(-1, 0, data); }

bool BusEventSource::process() {
    if (closed_)
        return false;
    std::string failure;
    const std::uint64_t started = now_usec();
    yielded_ = false;
    for (;;) {
        const int r = sd_bus_process(bus_, nullptr);
        if (r < 0) {
            failure = fmt::format("sd_bus_process failed: {}", std::strerror(-r));
            break;
        }
        if (r == 0)
            break;
        // A peer that writes as fast as we read (a frame flood) must not keep the loop here:
        // after the budget, let the other sources (output frames, control socket) run first.
        if (now_usec() - started >= dispatch_budget_usec) {
            yielded_ = true;
            break;
        }
    }
    const bool open = sd_bus_is_open(bus_) > 0;
    if (failure.empty() && open)
        return true;
    // A peer hang-up surfaces as ECONNRESET/ENOTCONN from sd_bus_process; say it plainly.
    if (!open)
        failure = "the peer closed the connection";
    closed_ = true;
    // Stop polling a dead fd; the owner tears down the bus.
    fd_source_.reset();
    timer_source_.reset();
    auto on_closed = std::move(on_closed_);
    on_closed(std::move(failure)); // may destroy *this
    return false;
}

void BusEventSource::rearm() {
    if (closed_)
        return;
    const int events = sd_bus_get_events(bus_);
    if (events < 0)
        return;
    wl_event_source_fd_update(fd_source_.get(), to_wl_mask(events));
    std::uint64_t deadline = UINT64_MAX;
    int timer_ms = 0; // 0 disarms
    if (sd_bus_get_timeout(bus_, &deadline) > 0 && deadline != UINT64_MAX) {
        const std::uint64_t now = now_usec();
        // Round up so we never wake early and spin; an expired deadline fires in 1 ms.
        timer_ms = deadline <= now ? 1 : static_cast<int>(std::min<std::uint64_t>((deadline - now + 999) / 1000, 1u << 30));
    }
    // Work left over after a yield may sit in sd-bus's buffers, where the fd does not show it.
    if (yielded_)
        timer_ms = 1;
    wl_event_source_timer_update(timer_source_.get(), timer_ms);
}

} // namespace phyllome::guestview::detail
