#include <gtest/gtest.h>

#include "session/kiosk_policy.hpp"

namespace phyllome::session {
namespace {

using namespace std::chrono_literals;
using guestview::GuestInfo;
using guestview::GuestState;
using Kind = KioskPolicy::Decision::Kind;

GuestInfo guest(GuestState state, std::string reason = {}) {
    GuestInfo g;
    g.name = "kiosk";
    g.state = state;
    g.state_reason = std::move(reason);
    return g;
}

class KioskPolicyTest : public ::testing::Test {
protected:
    KioskPolicy::Clock::time_point t0 = KioskPolicy::Clock::now();
    KioskPolicy restart{"kiosk", config::GuestExitPolicy::Restart, 2000ms, 16000ms};
};

TEST_F(KioskPolicyTest, StartsAGuestThatIsOffAndSaysSoUntilItsFirstFrame) {
    auto off = guest(GuestState::ShutOff, "shut off: shutdown");
    auto d = restart.on_inventory(&off, true, t0);
    EXPECT_EQ(d.kind, Kind::Start);
    EXPECT_EQ(d.delay, 0ms);
    EXPECT_EQ(restart.message(t0), "Starting kiosk…");
    // Still off while it starts: no second start.
    EXPECT_EQ(restart.on_inventory(&off, true, t0).kind, Kind::Nothing);
    auto on = guest(GuestState::Running);
    EXPECT_EQ(restart.on_inventory(&on, true, t0).kind, Kind::Nothing);
    EXPECT_EQ(restart.message(t0), "Starting kiosk…");
    restart.on_first_frame(t0);
    EXPECT_TRUE(restart.showing_guest());
    EXPECT_EQ(restart.message(t0), "");
}

TEST_F(KioskPolicyTest, ARunningGuestIsNotStartedAgain) {
    auto on = guest(GuestState::Running);
    EXPECT_EQ(restart.on_inventory(&on, true, t0).kind, Kind::Nothing);
    EXPECT_EQ(restart.on_inventory(nullptr, false, t0).kind, Kind::Nothing) << "libvirt away: wait";
}

TEST_F(KioskPolicyTest, CleanShutdownRestartsAtOnceCrashesBackOffAndShowTheReason) {
    auto on = guest(GuestState::Running);
    restart.on_inventory(&on, true, t0);
    restart.on_first_frame(t0);
    auto off = guest(GuestState::ShutOff, "shut off: shutdown");
    auto d = restart.on_inventory(&off, true, t0 + 1s);
    EXPECT_EQ(d.kind, Kind::Start);
    EXPECT_EQ(d.delay, 0ms);

    // Crash after crash: 2 s, 4 s, 8 s, 16 s, 16 s.
    std::chrono::milliseconds expected[] = {2000ms, 4000ms, 8000ms, 16000ms, 16000ms};
    auto t = t0 + 2s;
    for (auto want : expected) {
        EXPECT_EQ(restart.on_timer(t).kind, Kind::Start); // the pending restart (or a no-op when none)
        restart.on_inventory(&on, true, t);
        restart.on_first_frame(t);
        auto crashed = guest(GuestState::Crashed, "crashed: panicked");
        d = restart.on_inventory(&crashed, true, t + 1s);
        EXPECT_EQ(d.kind, Kind::Start);
        EXPECT_EQ(d.delay, want);
        EXPECT_NE(restart.message(t + 1s).find("crashed: panicked"), std::string::npos);
        EXPECT_NE(restart.message(t + 1s).find("Restarting in"), std::string::npos);
        EXPECT_EQ(restart.on_timer(t + 1s).kind, Kind::Nothing) << "not before the delay";
        t += 1s + want;
    }
    // Running long enough forgives the past: the next crash waits the first delay again.
    EXPECT_EQ(restart.on_timer(t).kind, Kind::Start);
    restart.on_inventory(&on, true, t);
    restart.on_first_frame(t);
    auto crashed = guest(GuestState::Crashed, "crashed: panicked");
    EXPECT_EQ(restart.on_inventory(&crashed, true, t + KioskPolicy::healthy_after + 1s).delay, 2000ms);
}

TEST_F(KioskPolicyTest, OverlayAndExitPolicies) {
    KioskPolicy overlay{"kiosk", config::GuestExitPolicy::Overlay, 1000ms, 1000ms};
    KioskPolicy exit{"kiosk", config::GuestExitPolicy::Exit, 1000ms, 1000ms};
    auto on = guest(GuestState::Running);
    auto off = guest(GuestState::ShutOff, "shut off: destroyed");
    for (auto* p : {&overlay, &exit}) {
        p->on_inventory(&on, true, t0);
        p->on_first_frame(t0);
    }
    EXPECT_EQ(overlay.on_inventory(&off, true, t0).kind, Kind::ShowOverlay);
    EXPECT_EQ(exit.on_inventory(&off, true, t0).kind, Kind::Exit);
}

TEST_F(KioskPolicyTest, AFailedStartIsRetriedWithBackoffAndAMissingGuestIsSaid) {
    auto off = guest(GuestState::ShutOff);
    restart.on_inventory(&off, true, t0);
    auto d = restart.on_start_failed("no such emulator", t0);
    EXPECT_EQ(d.kind, Kind::Start);
    EXPECT_EQ(d.delay, 2000ms);
    EXPECT_NE(restart.message(t0).find("no such emulator"), std::string::npos);

    KioskPolicy missing{"ghost", config::GuestExitPolicy::Restart, 1000ms, 1000ms};
    EXPECT_EQ(missing.on_inventory(nullptr, true, t0).kind, Kind::Nothing);
    EXPECT_NE(missing.message(t0).find("no guest named 'ghost'"), std::string::npos);
}

} // namespace
} // namespace phyllome::session
