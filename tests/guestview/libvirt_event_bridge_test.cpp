// The bridge against libvirt's public event API (virEventAddHandle & co. call our implementation).
#include "guestview/libvirt_event_bridge.hpp"

#include <atomic>
#include <stdexcept>
#include <thread>

#include <gtest/gtest.h>
#include <libvirt/libvirt.h>
#include <fcntl.h>
#include <unistd.h>

#include "tests/guestview/test_support.hpp"

namespace phyllome::guestview {
namespace {

using namespace std::chrono_literals;
using testing::LoopPtr;
using testing::make_loop;
using testing::pump_for;
using testing::pump_until;

struct Pipe {
    int read_end = -1;
    int write_end = -1;
    Pipe() {
        int fds[2];
        if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0)
            throw std::runtime_error("pipe2");
        read_end = fds[0];
        write_end = fds[1];
    }
    ~Pipe() {
        close(read_end);
        close(write_end);
    }
    void put_byte() const { ASSERT_EQ(write(write_end, "x", 1), 1); }
};

struct Record {
    std::atomic<int> calls{0};
    int last_watch = -1;
    int last_fd = -1;
    int last_events = 0;
    bool freed = false;
};

void on_handle(int watch, int fd, int events, void* opaque) {
    auto* record = static_cast<Record*>(opaque);
    record->last_watch = watch;
    record->last_fd = fd;
    record->last_events = events;
    ++record->calls;
}

void on_timeout(int timer, void* opaque) {
    auto* record = static_cast<Record*>(opaque);
    record->last_watch = timer;
    ++record->calls;
}

void on_free(void* opaque) { static_cast<Record*>(opaque)->freed = true; }

class LibvirtEventBridgeTest : public ::testing::Test {
protected:
    LoopPtr loop = make_loop();
    std::shared_ptr<LibvirtEventBridge> bridge = LibvirtEventBridge::attach(loop.get());
};

TEST_F(LibvirtEventBridgeTest, ReadableFdCallsBackWithLibvirtsFdAndWatch) {
    Pipe pipe;
    Record record;
    const int watch = virEventAddHandle(pipe.read_end, VIR_EVENT_HANDLE_READABLE, &on_handle, &record, nullptr);
    ASSERT_GT(watch, 0);
    pump_for(loop.get(), 50ms);
    EXPECT_EQ(record.calls, 0) << "nothing to read yet";

    pipe.put_byte();
    ASSERT_TRUE(pump_until(loop.get(), [&] { return record.calls > 0; }));
    EXPECT_EQ(record.last_watch, watch);
    EXPECT_EQ(record.last_fd, pipe.read_end);
    EXPECT_TRUE(record.last_events & VIR_EVENT_HANDLE_READABLE);
    EXPECT_EQ(virEventRemoveHandle(watch), 0);
}

TEST_F(LibvirtEventBridgeTest, HandleWithoutEventsIsNotPolledUntilUpdated) {
    Pipe pipe;
    pipe.put_byte();
    Record record;
    const int watch = virEventAddHandle(pipe.read_end, 0, &on_handle, &record, nullptr);
    ASSERT_GT(watch, 0);
    pump_for(loop.get(), 50ms);
    EXPECT_EQ(record.calls, 0);

    virEventUpdateHandle(watch, VIR_EVENT_HANDLE_READABLE);
    ASSERT_TRUE(pump_until(loop.get(), [&] { return record.calls > 0; }));

    virEventUpdateHandle(watch, 0);
    const int calls_before = record.calls;
    pump_for(loop.get(), 50ms);
    EXPECT_EQ(record.calls, calls_before) << "disabled again, though still readable";
    EXPECT_EQ(virEventRemoveHandle(watch), 0);
}

TEST_F(LibvirtEventBridgeTest, RemovedHandleIsSilentAndFreedLaterFromTheLoop) {
    Pipe pipe;
    pipe.put_byte();
    Record record;
    const int watch = virEventAddHandle(pipe.read_end, VIR_EVENT_HANDLE_READABLE, &on_handle, &record, &on_free);
    ASSERT_GT(watch, 0);
    EXPECT_EQ(virEventRemoveHandle(watch), 0);
    EXPECT_FALSE(record.freed) << "libvirt forbids freeing inside the remove call";
    ASSERT_TRUE(pump_until(loop.get(), [&] { return record.freed; }));
    EXPECT_EQ(record.calls, 0);
    EXPECT_EQ(virEventRemoveHandle(watch), -1) << "already removed";
}

TEST_F(LibvirtEventBridgeTest, TimeoutIsPeriodicDisabledByMinusOneAndImmediateAtZero) {
    Record record;
    const int timer = virEventAddTimeout(10, &on_timeout, &record, &on_free);
    ASSERT_GT(timer, 0);
    ASSERT_TRUE(pump_until(loop.get(), [&] { return record.calls >= 3; }));
    EXPECT_EQ(record.last_watch, timer);

    virEventUpdateTimeout(timer, -1);
    const int calls_when_disabled = record.calls;
    pump_for(loop.get(), 100ms);
    EXPECT_EQ(record.calls, calls_when_disabled);

    virEventUpdateTimeout(timer, 0);
    ASSERT_TRUE(pump_until(loop.get(), [&] { return record.calls >= calls_when_disabled + 3; }, 1s))
        << "a zero timeout fires on every iteration";

    EXPECT_EQ(virEventRemoveTimeout(timer), 0);
    EXPECT_FALSE(record.freed);
    ASSERT_TRUE(pump_until(loop.get(), [&] { return record.freed; }));
}

TEST_F(LibvirtEventBridgeTest, UpdateFromAnotherThreadWakesTheLoop) {
    Record record;
    const int timer = virEventAddTimeout(-1, &on_timeout, &record, nullptr);
    ASSERT_GT(timer, 0);
    std::thread other{[timer] { virEventUpdateTimeout(timer, 0); }};
    other.join();
    ASSERT_TRUE(pump_until(loop.get(), [&] { return record.calls > 0; }, 2s));
    virEventUpdateTimeout(timer, -1);
    EXPECT_EQ(virEventRemoveTimeout(timer), 0);
}

TEST_F(LibvirtEventBridgeTest, SharedPerLoopAndExclusiveWhileBound) {
    EXPECT_EQ(LibvirtEventBridge::attach(loop.get()), bridge);
    LoopPtr other = make_loop();
    EXPECT_THROW(LibvirtEventBridge::attach(other.get()), std::logic_error);
}

TEST_F(LibvirtEventBridgeTest, RegistrationsMoveToTheNextLoop) {
    Record record;
    const int timer = virEventAddTimeout(5, &on_timeout, &record, &on_free);
    ASSERT_GT(timer, 0);
    bridge.reset(); // unbinds `loop`

    LoopPtr next = make_loop();
    auto next_bridge = LibvirtEventBridge::attach(next.get());
    ASSERT_TRUE(pump_until(next.get(), [&] { return record.calls > 0; }));
    EXPECT_EQ(virEventRemoveTimeout(timer), 0);
    ASSERT_TRUE(pump_until(next.get(), [&] { return record.freed; }));
}

} // namespace
} // namespace phyllome::guestview
