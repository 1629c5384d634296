// What the bench reads about another process from /proc, without talking to it: CPU, context
// switches, RSS and minor page faults. Page faults come from /proc/PID/stat (no perf needed):
// on a virtual machine each costs far more than on bare metal, so a consumer that maps fresh
// memory per message shows here before it shows in its CPU.
#pragma once

#include <cstdint>
#include <string>

namespace phyllome::bench {

// The shell's pid, found by its unique config path in /proc/*/cmdline (ShellProcess keeps it private).
int find_pid_by_arg(const std::string& arg);

struct ProcSample {
    std::uint64_t voluntary = 0, involuntary = 0; // context switches, all threads
    std::uint64_t main_voluntary = 0;             // the main thread's (the event loop's) alone
    double cpu_ms = 0;                            // utime + stime, all threads (ns precision from schedstat)
    long rss_kb = 0;
    int threads = 0;
    std::uint64_t minor_faults = 0; // /proc/PID/stat minflt (field 10): all threads, live and exited
    std::uint64_t major_faults = 0; // majflt (field 12)
};
ProcSample sample_process(int pid);

// Minor page faults of a process so far (field 10 of /proc/PID/stat); 0 when it cannot be read.
std::uint64_t minor_faults(int pid);

// What one minor page fault costs on this machine, in microseconds: the first write to each
// page of fresh anonymous memory (the kernel's fault path plus zeroing the page), median of a
// few runs. Dear on virtual machines, where every fault also walks the host's page tables.
double page_fault_cost_us();

} // namespace phyllome::bench
