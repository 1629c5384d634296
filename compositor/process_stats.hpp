// Numbers about this process that status and benchmarks report.
#pragma once

#include <optional>

namespace phyllome::compositor {

// Milliseconds since the kernel started this process (exec included), from /proc/self/stat.
std::optional<double> process_age_ms();
// Resident set size in KiB, from /proc/self/statm.
long resident_kb();
// User + system CPU time of this process in milliseconds.
double process_cpu_ms();
// CPU time of the calling thread in milliseconds (the main thread's includes loading the
// program: a start-up figure that a busy machine does not inflate the way wall time is).
double thread_cpu_ms();

} // namespace phyllome::compositor
