// Fake QEMU displays served from their own thread, so the bench's main thread can block on
// phyllomectl, sleep or read /proc while the peers keep answering the shell and streaming.
// Each peer listens on a unix socket before the shell starts; like QEMU, it sends its current
// frame as soon as the shell registers a listener, then (optionally) streams full Scanouts.
// A peer whose connection closes (the shell stopped or dropped it) stops streaming: a failed
// send ends that peer, never the bench.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "proc_sample.hpp"

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
    // Peers whose connection failed while the shell was meant to be there, with why; empty
    // when every send went through. Read it before stop() for a phase's notes.
    std::string errors() const;
    // Ends the peers' thread and closes their connections. Call it (or use StopPeersFirst)
    // before the shell stops: otherwise the peers stream into a connection the shell resets.
    void stop();

    struct State;

private:
    void run();
    void serve();
    // Sends guest i's first frame once the shell listens, then its stream when due. Throws
    // when the connection is gone.
    void send_due(std::size_t i, Clock::time_point now);

    std::string dir_;
    std::vector<Guest> guests_;
    std::unique_ptr<State> state_;
    std::atomic<bool> stop_{false}, streaming_{false}, ready_{false};
    std::atomic<std::uint64_t> skipped_{0};
    mutable std::mutex errors_mutex_;
    std::string errors_;
    std::thread thread_;
};

// Declared after the ShellProcess, so that it is destroyed first: stops the peers before the
// shell, whichever way the phase leaves its scope.
class StopPeersFirst {
public:
    explicit StopPeersFirst(PeerHost& peers) : peers_(peers) {}
    ~StopPeersFirst() { peers_.stop(); }
    StopPeersFirst(const StopPeersFirst&) = delete;
    StopPeersFirst& operator=(const StopPeersFirst&) = delete;

private:
    PeerHost& peers_;
};


} // namespace phyllome::bench
