// The benchmark's own harness (issue 12, part 2): a shell that goes away while fake peers
// stream must end those peers' streams, not the bench (it used to std::terminate on the peer
// thread's failed send), and a failed phase must still leave a table and JSON with its note.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <memory>
#include <vector>

#include "bench_report.hpp"
#include "fake_display_session.hpp"
#include "peer_host.hpp"
#include "proc_sample.hpp"
#include "shell_process.hpp"

namespace phyllome::bench {
namespace {

using namespace std::chrono_literals;
using test::ShellProcess;

std::unique_ptr<ShellProcess> shell_showing(PeerHost& peers) {
    ShellProcess::Options o;
    o.extra_args = peers.display_args();
    auto shell = std::make_unique<ShellProcess>(o);
    EXPECT_TRUE(shell->started()) << shell->log();
    EXPECT_TRUE(test::wait_until(
        [&] {
            auto g = test::parse_guest_stats(shell->status_json(), "alpha");
            return g && g->frames_presented >= 1;
        },
        20s))
        << shell->status_json();
    return shell;
}

TEST(PeerHost, ShellStoppedWhileStreamingEndsThePeersStream) {
    PeerHost peers({{"alpha", 640, 480, 60}});
    auto shell = shell_showing(peers);
    peers.set_streaming(true);
    const auto before = peers.sent(0);
    ASSERT_TRUE(test::wait_until([&] { return peers.sent(0) >= before + 5; }, 10s));
    EXPECT_EQ(shell->stop(), 0) << shell->log();
    // The peer finds the connection reset on its next send, records it and stops sending.
    ASSERT_TRUE(test::wait_until([&] { return !peers.errors().empty(); }, 10s));
    EXPECT_NE(peers.errors().find("alpha"), std::string::npos) << peers.errors();
    const auto sent = peers.sent(0);
    peers.stop();
    EXPECT_EQ(peers.sent(0), sent);
}

TEST(PeerHost, StoppedBeforeTheShellHasNoErrors) {
    PeerHost peers({{"alpha", 640, 480, 60}});
    auto shell = shell_showing(peers);
    peers.set_streaming(true);
    const auto before = peers.sent(0);
    ASSERT_TRUE(test::wait_until([&] { return peers.sent(0) >= before + 5; }, 10s));
    {
        const StopPeersFirst stop(peers);
    }
    EXPECT_EQ(peers.errors(), "");
    EXPECT_TRUE(shell->running()); // the shell saw its display go, and stays up
    EXPECT_EQ(shell->stop(), 0) << shell->log();
}

TEST(BenchReport, AFailedPhaseIsANoteInTheJsonAndUnmeasuredKeysAreNull) {
    Results r;
    r.set("switch_p50_ms", 12.5);
    r.set("switch_p99_ms", NAN);
    r.notes.push_back("switch: the phase failed: sd_bus_send: Connection reset by \"peer\"");
    const std::string json = to_json(r, true);
    EXPECT_NE(json.find("\"switch_p50_ms\": 12.5000"), std::string::npos) << json;
    EXPECT_NE(json.find("\"switch_p99_ms\": null"), std::string::npos) << json;
    EXPECT_NE(json.find("\"cpu_ratio_vs_drain_floor\": null"), std::string::npos) << json;
    EXPECT_NE(json.find("the phase failed: sd_bus_send: Connection reset by \\\"peer\\\""), std::string::npos) << json;
}

TEST(ProcSample, CountsThisProcesssPageFaults) {
    const auto before = minor_faults(getpid());
    // Fresh pages, each written once: every one is a minor fault.
    std::vector<std::unique_ptr<char[]>> blocks;
    for (int i = 0; i < 64; ++i) {
        blocks.push_back(std::make_unique<char[]>(1 << 20)); // above the mmap threshold: fresh pages
        for (int at = 0; at < (1 << 20); at += 4096)
            blocks.back()[at] = 1;
    }
    EXPECT_GE(minor_faults(getpid()) - before, 64u * 200); // 256 pages per block, less any huge pages
    EXPECT_GT(page_fault_cost_us(), 0.0);
}

} // namespace
} // namespace phyllome::bench
