// ScanoutDMABUF2 over the wire: DisplayConnection against FakeQemuDisplay on one wl_event_loop.
// The client advertises Listener.Unix.ScanoutDMABUF2, so the fake (like QEMU 10.1) uses it.
#include <gtest/gtest.h>
#include <drm_fourcc.h>
#include <pixman.h>
#include <sys/mman.h>
#include <unistd.h>

#include <fcntl.h>

#include <filesystem>
#include <functional>
#include <string_view>
#include <vector>

#include "config/log.hpp"
#include "guestview/display/bus_handles.hpp"
#include "guestview/display/display_connection.hpp"
#include "tests/display/fake_dmabuf2.hpp"
#include "tests/display/fake_qemu_display.hpp"
#include "tests/display/loop_runner.hpp"
#include "tests/display/fd_test_util.hpp"

namespace phyllome::guestview {
namespace {

using detail::UniqueFd;
using testing::Dmabuf2Scanout;
using testing::DmabufSent;
using testing::FakeQemuDisplay;
using testing::LoopRunner;

using testing::memfd_of;
using testing::open_fds;

class Dmabuf2Protocol : public ::testing::Test {
protected:
    void SetUp() override {
        fake = std::make_unique<FakeQemuDisplay>(runner.loop(), "test-vm",
                                                 std::vector<testing::FakeConsoleConfig>{testing::FakeConsoleConfig{}});
        DisplayCallbacks callbacks{};
        callbacks.frame = [this](std::uint32_t, const FrameEvent& event) { frames.push_back(event); };
        std::string error;
        display = DisplayConnection::from_fd(runner.loop(), fake->client_socket(), "test-guest", callbacks, error);
        ASSERT_TRUE(display) << error;
        ASSERT_TRUE(runner.run_until([&] { return fake->register_calls() > 0 && fake->probe(0).answered; }));
    }

    bool wait_frames(std::size_t count) {
        return runner.run_until([&] { return frames.size() >= count; });
    }

    // A bad message followed by a good one: the good one's frame proves the bad one was handled
    // (same ordered connection) without producing a frame.
    void expect_refused_then_alive(std::uint64_t refused_total, const char* what) {
        const std::size_t before = frames.size();
        std::vector<std::uint8_t> pixels(8 * 8 * 4, 0x42);
        fake->scanout(0, 8, 8, 32, PIXMAN_x8r8g8b8, pixels);
        ASSERT_TRUE(wait_frames(before + 1)) << what;
        EXPECT_EQ(frames.size(), before + 1) << what << " produced a frame";
        EXPECT_EQ(display->stats(0).refused, refused_total) << what;
    }

    LoopRunner runner;
    std::vector<FrameEvent> frames;
    std::unique_ptr<FakeQemuDisplay> fake;
    std::unique_ptr<DisplayConnection> display;
};

TEST_F(Dmabuf2Protocol, SinglePlaneWithASubRectangleArrivesAsTheVisibleFrame) {
    UniqueFd memfd = memfd_of(4096 + 640 * 4 * 480);
    Dmabuf2Scanout s = testing::planes_scanout({memfd.get()}, {4096}, {640 * 4}, 640, 480, DRM_FORMAT_XRGB8888,
                                               DRM_FORMAT_MOD_LINEAR);
    s.x = 10;
    s.y = 20;
    s.width = 600;
    s.height = 400;
    ASSERT_EQ(testing::send_scanout_dmabuf2(*fake, 0, s), DmabufSent::Version2)
        << "the client advertises Listener.Unix.ScanoutDMABUF2";
    ASSERT_TRUE(wait_frames(1));
    const Frame& frame = *frames[0].frame;
    EXPECT_EQ(frame.width(), 600u);
    EXPECT_EQ(frame.height(), 400u);
    const DmabufAttributes* d = frame.dmabuf();
    ASSERT_NE(d, nullptr);
    EXPECT_EQ(d->num_planes, 1u);
    EXPECT_EQ(d->planes[0].offset, 4096u);
    EXPECT_EQ(d->planes[0].stride, 640u * 4);
    EXPECT_EQ(d->visible, (Rect{10, 20, 600, 400}));
    EXPECT_EQ(d->backing_width, 640u);
    EXPECT_EQ(d->backing_height, 480u);
    EXPECT_EQ(display->stats(0).refused, 0u);

    // UpdateDMABUF keeps working, in visible coordinates, and QEMU gets its reply.
    auto update = fake->update_dmabuf(0, 590, 390, 50, 50);
    ASSERT_TRUE(wait_frames(2));
    EXPECT_EQ(frames[1].damage, (Rect{590, 390, 10, 10}));
    EXPECT_EQ(frames[1].frame, frames[0].frame);
    frames[1].sampling_done->done();
    ASSERT_TRUE(runner.run_until([&] { return update->answered; }));
    EXPECT_EQ(update->error, "");
}

TEST_F(Dmabuf2Protocol, TwoPlanesArriveWithEveryPlane) {
    UniqueFd colour = memfd_of(256 * 4 * 64), aux = memfd_of(4096);
    Dmabuf2Scanout s = testing::planes_scanout({colour.get(), aux.get()}, {0, 512}, {256 * 4, 64}, 256, 64,
                                               DRM_FORMAT_XRGB8888, I915_FORMAT_MOD_Y_TILED_CCS);
    s.y0_top = true;
    ASSERT_EQ(testing::send_scanout_dmabuf2(*fake, 0, s), DmabufSent::Version2);
    ASSERT_TRUE(wait_frames(1));
    const DmabufAttributes* d = frames[0].frame->dmabuf();
    ASSERT_NE(d, nullptr);
    ASSERT_EQ(d->num_planes, 2u);
    EXPECT_EQ(d->planes[1].offset, 512u);
    EXPECT_EQ(d->planes[1].stride, 64u);
    EXPECT_TRUE(d->y0_top);
    EXPECT_FALSE(d->cropped());
    for (std::uint32_t i = 0; i < 2; ++i)
        EXPECT_GE(::fcntl(d->planes[i].fd, F_GETFD), 0) << "plane " << i << " is an open duplicate";
    // And an UpdateDMABUF for it.
    auto update = fake->update_dmabuf(0, 0, 0, 8, 8);
    ASSERT_TRUE(wait_frames(2));
    frames.clear(); // drops the sampling token: replied
    ASSERT_TRUE(runner.run_until([&] { return update->answered; }));
}

TEST_F(Dmabuf2Protocol, MalformedMessagesAreRefusedCountedAndLeaveNoFdOpen) {
    UniqueFd memfd = memfd_of(64 * 4 * 48);
    const int fd = memfd.get();
    auto good = [fd] {
        return testing::planes_scanout({fd}, {0}, {64 * 4}, 64, 48, DRM_FORMAT_XRGB8888, DRM_FORMAT_MOD_LINEAR);
    };
    int pipe_fds[2];
    ASSERT_EQ(::pipe2(pipe_fds, O_CLOEXEC), 0);
    UniqueFd pipe_read(pipe_fds[0]), pipe_write(pipe_fds[1]);
    // Settle the connection (first frame) before counting fds.
    expect_refused_then_alive(0, "a valid Scanout");
    frames.clear();
    const std::size_t fds_before = open_fds();
    struct Case {
        const char* name;
        std::function<void(Dmabuf2Scanout&)> spoil;
    };
    const Case cases[] = {
        {"num_planes 0", [](Dmabuf2Scanout& s) { s.num_planes = 0; }},
        {"num_planes 5", [fd](Dmabuf2Scanout& s) {
             s.num_planes = 5;
             s.fds.assign(5, fd);
             s.offsets.assign(5, 0);
             s.strides.assign(5, 256);
         }},
        {"fds short", [](Dmabuf2Scanout& s) { s.fds.clear(); }},
        {"offsets long", [](Dmabuf2Scanout& s) { s.offsets = {0, 0}; }},
        {"strides short", [](Dmabuf2Scanout& s) { s.strides.clear(); }},
        {"unknown fourcc", [](Dmabuf2Scanout& s) { s.fourcc = DRM_FORMAT_NV12; }},
        {"empty backing", [](Dmabuf2Scanout& s) { s.backing_height = 0; }},
        {"empty visible", [](Dmabuf2Scanout& s) { s.width = 0; }},
        {"visible outside", [](Dmabuf2Scanout& s) { s.x = 1; }},
        {"short stride", [](Dmabuf2Scanout& s) { s.strides = {100}; }},
        {"too small for linear", [](Dmabuf2Scanout& s) { s.offsets = {4}; }},
        {"a pipe", [&](Dmabuf2Scanout& s) { s.fds = {pipe_read.get()}; }},
    };
    std::uint64_t refused = 0;
    for (const Case& c : cases) {
        Dmabuf2Scanout s = good();
        c.spoil(s);
        ASSERT_GE(testing::send_scanout_dmabuf2_raw(*fake, 0, s), 0) << c.name;
        expect_refused_then_alive(++refused, c.name);
    }
    // Wrong argument types never reach our handler: sd-bus checks the signature (not counted).
    ASSERT_GE(fake->send_raw(0, testing::dmabuf2_interface, "ScanoutDMABUF2",
                             [](sd_bus_message* m) { return sd_bus_message_append(m, "u", 7u); }),
              0);
    expect_refused_then_alive(refused, "wrong signature");
    frames.clear();
    EXPECT_EQ(open_fds(), fds_before) << "a refused message left an fd open";
    EXPECT_TRUE(fake->listener_connected(0));
    EXPECT_TRUE(display->main_connected());

    // And the good one still goes through.
    ASSERT_EQ(testing::send_scanout_dmabuf2(*fake, 0, good()), DmabufSent::Version2);
    ASSERT_TRUE(wait_frames(1));
    EXPECT_NE(frames[0].frame->dmabuf(), nullptr);
}

} // namespace
} // namespace phyllome::guestview
