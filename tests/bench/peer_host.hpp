// Fake QEMU displays served from their own thread, so the bench's main thread can block on
// phyllomectl, sleep or read /proc while the peers keep answering the shell and streaming.
// Each peer listens on a unix socket before the shell starts; like QEMU, it sends its current
// frame as soon as the shell registers a listener, then (optionally) streams full Scanouts.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace phyllome::bench {

class PeerHost {
public:
    struct Guest {
        std::string name;
        int width = 1920, height = 1080;
        int rate = 0; // full Scanouts per second once streaming is on; 0: only the first frame
    };
    using Clock = std::chrono::steady_clock;

    PeerHost(std::vector<Guest> guests);
    ~PeerHost();
    PeerHost(const PeerHost&) = delete;
    PeerHost& operator=(const PeerHost&) = delete;

    // --display NAME=unix:path=... for every guest.
    std::vector<std::string> display_args() const;
    void set_streaming(bool on) { streaming_.store(on); }
    // When the first frame went out to guest i (Clock's epoch if not yet).
    Clock::time_point first_send(std::size_t i) const;
    std::uint64_t sent(std::size_t i) const;
    std::uint64_t skipped() const { return skipped_.load(); }
    bool all_connected() const;

    struct State;

private:
    void run();

    std::string dir_;
    std::vector<Guest> guests_;
    std::unique_ptr<State> state_;
    std::atomic<bool> stop_{false}, streaming_{false}, ready_{false};
    std::atomic<std::uint64_t> skipped_{0};
    std::thread thread_;
};

// The shell's pid, found by its unique config path in /proc/*/cmdline (ShellProcess keeps it private).
int find_pid_by_arg(const std::string& arg);

struct ProcSample {
    std::uint64_t voluntary = 0, involuntary = 0; // context switches, all threads
    std::uint64_t main_voluntary = 0;             // the main thread's (the event loop's) alone
    double cpu_ms = 0;                            // utime + stime, all threads (ns precision from schedstat)
    long rss_kb = 0;
    int threads = 0;
};
ProcSample sample_process(int pid);

} // namespace phyllome::bench
