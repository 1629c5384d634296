// Drives one sd-bus connection from a wl_event_loop: the connection's fd with the events
// sd_bus_get_events() asks for, and a timer for sd_bus_get_timeout(). Single-threaded.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "guestview/display/bus_handles.hpp"

namespace phyllome::guestview::detail {

class BusEventSource {
public:
    // `on_closed` runs once, as the very last thing a dispatch does, so it may destroy
    // the owner of this source.
    BusEventSource(wl_event_loop* loop, sd_bus* bus, std::function<void(std::string reason)> on_closed);
    BusEventSource(const BusEventSource&) = delete;
    BusEventSource& operator=(const BusEventSource&) = delete;

    // Re-arms fd mask and timer without processing (so no callback runs). Call after
    // queueing messages from outside a dispatch: sd-bus may need POLLOUT or a reply timeout.
    void rearm();
    bool closed() const { return closed_; }

private:
    static int on_fd(int fd, std::uint32_t mask, void* data);
    static int on_timer(void* data);
    // false when the connection is gone (on_closed has run: do not touch `this`).
    bool process();

    sd_bus* bus_;
    std::function<void(std::string)> on_closed_;
    EventSourcePtr fd_source_;
    EventSourcePtr timer_source_;
    bool closed_ = false;
    bool yielded_ = false; // the last dispatch stopped at its budget with work left
    // How long one dispatch may process messages before the loop gets its turn.
    static constexpr std::uint64_t dispatch_budget_usec = 4000;
};

} // namespace phyllome::guestview::detail
