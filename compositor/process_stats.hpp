// Numbers about this process that status and benchmarks report.
#pragma once

#include <optional>

namespace phyllome::compositor {

// Milliseconds since the kernel started this process (exec included), from /proc/self/stat.
std::optional<double> process_age_ms();
// Resident set size in KiB, from /proc/self/statm.
long resident_kb();
// The resident set by kind, in KiB, from /proc/self/status: anonymous (the heap, stacks,
// frames we copied), file-backed (shared libraries' code, fonts) and shared memory
// (output buffers, mapped guest frames).
struct ResidentParts {
    long total_kb = 0; // VmRSS
    long anon_kb = 0, file_kb = 0, shmem_kb = 0;
};
ResidentParts resident_parts();
// The same for another process of ours (the libvirt agent); all zero when it cannot be read.
ResidentParts resident_parts(int pid);
// User + system CPU time of this process in milliseconds.
double process_cpu_ms();
// Hands the heap's free pages back to the kernel. glibc keeps freed frame-sized buffers
// (4-33 MB) in the heap once its mmap threshold has grown to their size, which it must for
// D-Bus receive buffers not to be mapped and faulted in per message; so the shell trims at
// quiet moments instead: after start-up, and when what is shown changes.
void release_free_memory();
// CPU time of the calling thread in milliseconds (the main thread's includes loading the
// program: a start-up figure that a busy machine does not inflate the way wall time is).
double thread_cpu_ms();

} // namespace phyllome::compositor
