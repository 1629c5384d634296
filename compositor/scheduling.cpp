#include "compositor/scheduling.hpp"

#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

#include <fmt/format.h>
#include <systemd/sd-bus.h>

#include "config/log.hpp"

namespace phyllome::compositor {
namespace {

constexpr int wanted_nice = -10;
// rtkit refuses a thread that could run forever: the kernel sends SIGXCPU past this much CPU
// without a blocking call (the main loop blocks every frame).
constexpr rlim_t rttime_limit_us = 200'000;

bool set_realtime_ourselves() {
    sched_param param{};
    param.sched_priority = sched_get_priority_min(SCHED_RR);
    return sched_setscheduler(0, SCHED_RR | SCHED_RESET_ON_FORK, &param) == 0;
}

// RealtimeKit1.MakeThreadRealtime for the calling thread, at rtkit's lowest realtime priority.
bool set_realtime_through_rtkit(std::string& why) {
    rlimit limit{};
    if (getrlimit(RLIMIT_RTTIME, &limit) == 0 && (limit.rlim_max == RLIM_INFINITY || limit.rlim_max > rttime_limit_us)) {
        limit.rlim_cur = limit.rlim_max = rttime_limit_us;
        setrlimit(RLIMIT_RTTIME, &limit);
    }
    sd_bus* bus = nullptr;
    if (int r = sd_bus_open_system(&bus); r < 0) {
        why = fmt::format("no system bus ({})", std::strerror(-r));
        return false;
    }
    sd_bus_error error = SD_BUS_ERROR_NULL;
    const auto tid = static_cast<std::uint64_t>(syscall(SYS_gettid));
    const int r = sd_bus_call_method(bus, "org.freedesktop.RealtimeKit1", "/org/freedesktop/RealtimeKit1",
                                     "org.freedesktop.RealtimeKit1", "MakeThreadRealtime", &error, nullptr, "tu", tid,
                                     std::uint32_t{1});
    if (r < 0)
        why = error.message ? error.message : std::strerror(-r);
    sd_bus_error_free(&error);
    sd_bus_flush_close_unref(bus);
    return r >= 0;
}

} // namespace

std::string ask_compositor_priority() {
    // Given by whoever started us (phyllome-kiosk@.service: CPUSchedulingPolicy=rr).
    if (const int policy = sched_getscheduler(0) & ~SCHED_RESET_ON_FORK; policy == SCHED_RR || policy == SCHED_FIFO) {
        log::info("scheduling: realtime, as started: frames and switches go before busy guests");
        return "realtime";
    }
    if (set_realtime_ourselves()) {
        log::info("scheduling: realtime (SCHED_RR): frames and switches go before busy guests");
        return "realtime";
    }
    std::string rtkit_why;
    if (set_realtime_through_rtkit(rtkit_why)) {
        log::info("scheduling: realtime through rtkit: frames and switches go before busy guests");
        return "realtime (rtkit)";
    }
    if (setpriority(PRIO_PROCESS, 0, wanted_nice) == 0) {
        log::info("scheduling: nice {} (no realtime: {})", wanted_nice, rtkit_why);
        return fmt::format("nice {}", wanted_nice);
    }
    log::warn("scheduling: normal priority (no CAP_SYS_NICE, rtkit: {}): a busy host may delay frames and "
                 "switches; run the session with CPUSchedulingPolicy=rr or install rtkit",
                 rtkit_why);
    return "normal";
}

void reset_child_scheduling() {
    sched_param param{};
    sched_setscheduler(0, SCHED_OTHER, &param); // lowering is always allowed
    setpriority(PRIO_PROCESS, 0, 0);            // raising the nice value is always allowed
}

} // namespace phyllome::compositor
