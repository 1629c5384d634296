#include "guestview/domain_state.hpp"

#include <gtest/gtest.h>
#include <libvirt/libvirt.h>

namespace phyllome::guestview {
namespace {

TEST(DomainState, ReasonsAreReadable) {
    EXPECT_EQ(describe_state(VIR_DOMAIN_CRASHED, VIR_DOMAIN_CRASHED_PANICKED), "crashed: panicked");
    EXPECT_EQ(describe_state(VIR_DOMAIN_SHUTOFF, VIR_DOMAIN_SHUTOFF_DESTROYED), "shut off: destroyed");
    EXPECT_EQ(describe_state(VIR_DOMAIN_SHUTOFF, VIR_DOMAIN_SHUTOFF_SHUTDOWN), "shut off: shutdown");
    EXPECT_EQ(describe_state(VIR_DOMAIN_PAUSED, VIR_DOMAIN_PAUSED_IOERROR), "paused: I/O error");
    EXPECT_EQ(describe_state(VIR_DOMAIN_RUNNING, VIR_DOMAIN_RUNNING_UNKNOWN), "running");
    EXPECT_EQ(describe_state(VIR_DOMAIN_SHUTOFF, 999), "shut off");
    EXPECT_EQ(describe_state(VIR_DOMAIN_PMSUSPENDED, VIR_DOMAIN_PMSUSPENDED_UNKNOWN), "suspended");
}

TEST(DomainState, StatesMap) {
    EXPECT_EQ(guest_state_from_libvirt(VIR_DOMAIN_RUNNING), GuestState::Running);
    EXPECT_EQ(guest_state_from_libvirt(VIR_DOMAIN_BLOCKED), GuestState::Running);
    EXPECT_EQ(guest_state_from_libvirt(VIR_DOMAIN_PAUSED), GuestState::Paused);
    EXPECT_EQ(guest_state_from_libvirt(VIR_DOMAIN_SHUTDOWN), GuestState::ShuttingDown);
    EXPECT_EQ(guest_state_from_libvirt(VIR_DOMAIN_SHUTOFF), GuestState::ShutOff);
    EXPECT_EQ(guest_state_from_libvirt(VIR_DOMAIN_CRASHED), GuestState::Crashed);
    EXPECT_EQ(guest_state_from_libvirt(VIR_DOMAIN_PMSUSPENDED), GuestState::Suspended);
    EXPECT_EQ(guest_state_from_libvirt(VIR_DOMAIN_NOSTATE), GuestState::Unknown);
}

TEST(DomainState, Names) {
    EXPECT_EQ(to_string(GuestState::ShutOff), "shut off");
    EXPECT_EQ(to_string(GuestState::ShuttingDown), "shutting down");
    EXPECT_EQ(to_string(GuestState::Unknown), "unknown");
    EXPECT_EQ(to_string(Action::Start), "start");
    EXPECT_EQ(to_string(Action::Shutdown), "shut down");
    EXPECT_EQ(to_string(Action::ForceOff), "force off");
}

} // namespace
} // namespace phyllome::guestview
