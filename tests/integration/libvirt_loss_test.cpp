// Fault injection: a private libvirtd is stopped and started again under the real shell. The
// loss is shown at once, and the shell reconnects within 2 s of libvirt's return.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <chrono>
#include <iostream>
#include <memory>
#include <string>

#include "private_libvirtd.hpp"
#include "shell_process.hpp"

namespace phyllome::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

void report(const std::string& key, double value) {
    std::cout << "[ measure  ] " << key << " = " << value << "\n";
    ::testing::Test::RecordProperty(key, std::to_string(value));
}

class LibvirtLoss : public ::testing::Test {
protected:
    void SetUp() override {
        if (auto why = PrivateLibvirtd::unavailable(); !why.empty())
            GTEST_SKIP() << why;
        daemon = std::make_unique<PrivateLibvirtd>();
        ASSERT_TRUE(daemon->start()) << daemon->log();
    }
    std::unique_ptr<PrivateLibvirtd> daemon;
    std::unique_ptr<ShellProcess> shell;
    void TearDown() override {
        shell.reset();
        daemon.reset();
    }
};

TEST_F(LibvirtLoss, OverlayShowsTheLossAndTheShellReconnectsWithinTwoSecondsOfLibvirtsReturn) {
    ShellProcess::Options o;
    o.libvirt_uri = daemon->uri();
    shell = std::make_unique<ShellProcess>(o);
    ASSERT_TRUE(shell->started()) << shell->log();
    // The test driver's default host has one running guest, "test".
    const std::string guest_back = R"({"name": "test", "state": "running")";
    ASSERT_TRUE(shell->wait_for_status(guest_back, 10s)) << shell->status_json() << shell->log();
    ASSERT_NE(shell->status_json().find(R"("state": "connected")"), std::string::npos);

    ASSERT_TRUE(daemon->stop());
    const auto stopped = Clock::now();
    // The loss is shown: libvirt failed, with why, and no stale guests.
    ASSERT_TRUE(shell->wait_for_status(R"("view": "overlay", "guest": null, "libvirt": {"uri": )", 2s))
        << shell->status_json();
    ASSERT_TRUE(shell->wait_for_status(R"("state": "failed", "error": "lost the connection to libvirt)", 2s))
        << shell->status_json();
    report("libvirt_loss_shown_ms", ms_since(stopped));
    EXPECT_EQ(shell->status_json().find(guest_back), std::string::npos) << "guests of a lost connection are stale";
    // Down long enough for a doubling backoff to wait 4 s before its next try.
    ASSERT_TRUE(shell->wait_for_status(R"("retry_in_ms": 4000)", 10s)) << shell->status_json();

    // Back: measured from the moment its socket exists.
    ASSERT_TRUE(daemon->start()) << daemon->log();
    struct stat info {};
    ASSERT_EQ(::stat(daemon->socket_path().c_str(), &info), 0);
    const auto socket_born = std::chrono::system_clock::time_point(
        std::chrono::duration_cast<std::chrono::system_clock::duration>(
            std::chrono::seconds(info.st_ctim.tv_sec) + std::chrono::nanoseconds(info.st_ctim.tv_nsec)));
    ASSERT_TRUE(shell->wait_for_status(guest_back, 10s)) << shell->status_json() << shell->log();
    const double reconnect_ms =
        std::chrono::duration<double, std::milli>(std::chrono::system_clock::now() - socket_born).count();
    report("libvirt_reconnect_after_socket_ms", reconnect_ms);
    EXPECT_LT(reconnect_ms, 2000.0) << shell->log();
    EXPECT_NE(shell->status_json().find(R"("state": "connected")"), std::string::npos) << shell->status_json();
    EXPECT_TRUE(shell->running());
}

} // namespace
} // namespace phyllome::test
