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
// The heap policy, before any thread starts: one malloc arena, frame-sized blocks from the heap,
// and freed memory handed back only by release_free_memory(). A streaming guest's messages are
// frame-sized (QEMU 7.2 sends a whole-screen change as a 4 MB Scanout at 1280x800): each is
// received into a fresh sd-bus buffer and freed a frame later. glibc's own thresholds grow
// only to twice the largest block it has unmapped, so two such buffers freed together at the
// top of the heap were handed back by free() and faulted in again by the next message: about
// 9,000 page faults a second on a 50 frames/s guest. Pinned at glibc's largest values instead.
void configure_heap();
// Hands the heap's free pages back to the kernel (malloc_trim). Freed frame-sized buffers
// stay in the heap while guests stream (configure_heap), so the shell trims at quiet moments
// instead: after start-up, and a second after what is shown last changed.
void release_free_memory();
// CPU time of the calling thread in milliseconds (the main thread's includes loading the
// program: a start-up figure that a busy machine does not inflate the way wall time is).
double thread_cpu_ms();

} // namespace phyllome::compositor
