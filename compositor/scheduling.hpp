// The CPU priority a compositor needs: a busy host (guests under TCG, a build) must not delay a
// switch or a frame. As KWin and gamescope do: SCHED_RR when the process may (CAP_SYS_NICE, or a
// unit's CPUSchedulingPolicy), else through rtkit on the system bus, else a high nice level,
// else nothing (logged). Children never inherit it (reset_child_scheduling()).
#pragma once

#include <string>

namespace phyllome::compositor {

// Asks for the priority for the calling thread (call it on the main thread before others start)
// and returns what was obtained: "realtime", "realtime (rtkit)", "nice -N" or "normal".
std::string ask_compositor_priority();

// In a child between fork and exec: back to the default policy and nice 0.
void reset_child_scheduling();

} // namespace phyllome::compositor
