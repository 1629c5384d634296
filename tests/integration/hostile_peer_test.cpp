// A display peer that sends what no sane QEMU sends — cursors with their hot spot outside, sizes
// of zero or far too large, short cursor data, pointer positions at the int32 extremes, surfaces
// in formats or strides the renderer cannot sample — interleaved with valid frames. The shell
// must stay up, keep answering and keep showing the last frame it could show.
#include <gtest/gtest.h>

#include <sys/mman.h>
#include <unistd.h>

#include <drm_fourcc.h>

#include <climits>
#include <cstring>

#include "fake_display_fixture.hpp"

namespace phyllome::test {
namespace {

using namespace std::chrono_literals;

// pixman format codes (pixman.h) QEMU's VGA-family surfaces can carry.
constexpr std::uint32_t pixman_r8g8b8 = 0x18020888, pixman_r5g6b5 = 0x10020565, pixman_x1r5g5b5 = 0x10020555,
                        pixman_a4r4g4b4 = 0x10024444;

std::vector<std::uint8_t> opaque_cursor(int w, int h, unsigned rgb) {
    std::vector<std::uint8_t> argb(static_cast<std::size_t>(w) * h * 4);
    for (std::size_t i = 0; i < argb.size(); i += 4)
        put_xrgb(&argb[i], rgb, 0xff);
    return argb;
}

class HostilePeer : public FakeDisplay {
protected:
    // The shell is alive, answers status, and its screen is `colour` in `r`.
    void expect_alive_showing(const Rect& r, const std::function<unsigned(int, int)>& colour) {
        ASSERT_TRUE(s().shell().running()) << "the shell died: " << s().shell().log();
        const auto st = s().stats();
        ASSERT_TRUE(st.has_value()) << "status does not answer: " << s().shell().log();
        EXPECT_EQ(st->display, "connected");
        expect_screen(r, colour);
    }
};

TEST_F(HostilePeer, HostileCursorsAndPointerPositionsLeaveTheLastFrameOnScreen) {
    start();
    show_gradient();
    const auto cursor = opaque_cursor(16, 16, 0xff00ff);
    const std::int32_t positions[][2] = {{INT32_MAX, INT32_MAX}, {INT32_MIN, INT32_MIN}, {-5000, 300},
                                         {300, 1 << 30},         {INT32_MAX, -1},         {-1, INT32_MIN}};
    for (const auto& p : positions) {
        // Hot spot outside the image, on every side.
        peer().cursor_define(0, 16, 16, 1000, -1000, cursor);
        peer().mouse_set(0, p[0], p[1], true);
        peer().cursor_define(0, 16, 16, INT32_MIN, INT32_MAX, cursor);
        peer().mouse_set(0, p[1], p[0], true);
        // Sizes of zero, negative and far too large, and data too short for the size.
        peer().cursor_define(0, 0, 0, 0, 0, {});
        peer().cursor_define(0, -16, 16, 0, 0, cursor);
        peer().cursor_define(0, 100000, 100000, 0, 0, cursor);
        peer().cursor_define(0, 64, 64, 0, 0, cursor);
        peer().cursor_define(0, 16, 16, 8, 8, cursor);
        peer().mouse_set(0, p[0], p[1], true);
        // An ordinary frame between them.
        peer().update(0, 0, 0, 64, 64, 64 * 4, FakeDisplaySession::xrgb, make_frame(64, 64, 64 * 4, gradient));
        s().pump(20ms);
    }
    // The cursor is parked far outside: the whole screen is the frame.
    peer().mouse_set(0, INT32_MAX, INT32_MAX, true);
    expect_alive_showing(whole, gradient);

    // The cursor still works after all that.
    peer().cursor_define(0, 16, 16, 0, 0, cursor);
    peer().mouse_set(0, 200, 300, true);
    expect_alive_showing(Rect{200, 300, 16, 16}, [](int, int) { return 0xff00ffu; });
}

TEST_F(HostilePeer, SurfacesTheRendererCannotSampleAreRefusedAndTheLastFrameStays) {
    start();
    show_gradient();
    struct Case {
        std::uint32_t width, height, stride, format;
    };
    const Case cases[] = {
        {W, H, W * 3, pixman_r8g8b8},         // 24 bits per pixel
        {W, H, W * 2, pixman_x1r5g5b5},       // 15 bits per pixel
        {W, H, W * 2, pixman_a4r4g4b4},       // 12 bits per pixel
        {641, 480, 641 * 2, pixman_r5g6b5},   // rows not 4-byte aligned
        {W - 1, H, (W - 1) * 4 + 1, FakeDisplaySession::xrgb}, // odd stride
    };
    for (const Case& c : cases) {
        std::vector<std::uint8_t> data(std::size_t{c.stride} * c.height, 0x5a);
        peer().scanout(0, c.width, c.height, c.stride, c.format, data);
        // A valid Update on top of it, then the pointer on the screen.
        peer().update(0, 0, 0, 16, 16, 16 * 4, c.format, std::vector<std::uint8_t>(16 * 16 * 4, 0x33));
        peer().mouse_set(0, 10, 10, true);
        // Instead of the picture the user reads why there is none, and the log names the guest.
        const bool told = s().wait_screen(
            [](const Image& i) { return count_colour(i, whole, overlay_background) > W * H / 2; }, 10s);
        ASSERT_TRUE(s().shell().running()) << "the shell died on a " << c.width << "x" << c.height << " stride "
                                           << c.stride << " format 0x" << std::hex << c.format << ": "
                                           << s().shell().log();
        EXPECT_TRUE(told) << "no message for a " << c.width << "x" << c.height << " stride " << c.stride;
        show_gradient();
    }
    const std::string log = s().shell().log();
    EXPECT_NE(log.find("guest fake: the renderer cannot show its 641x480 screen"), std::string::npos) << log;
    expect_alive_showing(whole, gradient);
}

TEST_F(HostilePeer, DmabufsTheShellCannotReadAreRefusedAndTheLastFrameStays) {
    start();
    show_gradient();
    const GuestStats before = stats();
    auto memfd_of = [](std::size_t bytes) {
        const int fd = memfd_create("hostile-dmabuf", MFD_CLOEXEC);
        EXPECT_GE(fd, 0);
        EXPECT_EQ(ftruncate(fd, static_cast<off_t>(bytes)), 0);
        return fd;
    };
    // 640x480, letterboxed: the output paints it rather than scanning it out.
    constexpr std::uint32_t w = 640, h = 480;
    // Far smaller than its claim: reading it would fault past the end of the memory.
    int fd = memfd_of(4096);
    peer().scanout_dmabuf(0, fd, w, h, w * 4, DRM_FORMAT_XRGB8888, DRM_FORMAT_MOD_LINEAR, false);
    close(fd);
    // Not memory at all.
    int pipe_fds[2];
    ASSERT_EQ(pipe(pipe_fds), 0);
    peer().scanout_dmabuf(0, pipe_fds[0], w, h, w * 4, DRM_FORMAT_XRGB8888, DRM_FORMAT_MOD_LINEAR, false);
    close(pipe_fds[0]);
    close(pipe_fds[1]);
    GuestStats st;
    EXPECT_TRUE(s().wait_stats([&](const GuestStats& g) { return g.refused >= before.refused + 2; }, 10s, &st))
        << s().shell().status_json();
    ASSERT_TRUE(s().shell().running()) << s().shell().log();

    // Tiled: only a GPU can read it; the pixman renderer shows a message instead.
    fd = memfd_of(std::size_t{w} * h * 4);
    peer().scanout_dmabuf(0, fd, w, h, w * 4, DRM_FORMAT_XRGB8888, I915_FORMAT_MOD_X_TILED, false);
    close(fd);
    EXPECT_TRUE(s().wait_screen(
        [](const Image& i) { return count_colour(i, whole, overlay_background) > W * H / 2; }, 10s));
    ASSERT_TRUE(s().shell().running()) << s().shell().log();
    show_gradient();
    expect_alive_showing(whole, gradient);
}

TEST_F(HostilePeer, SharedMemoryShrunkUnderTheShellReadsAsBlackAndTheSessionLives) {
    start();
    show_gradient();
    // QEMU 9.2's way: the surface in a memfd the shell maps. This peer then shrinks the memfd.
    const auto pixels = make_frame(W, H, W * 4, inverted_gradient);
    const int fd = memfd_create("hostile-surface", MFD_CLOEXEC);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(ftruncate(fd, static_cast<off_t>(pixels.size())), 0);
    ASSERT_EQ(pwrite(fd, pixels.data(), pixels.size(), 0), static_cast<ssize_t>(pixels.size()));
    auto outcome = peer().scanout_map(0, fd, 0, W, H, W * 4, FakeDisplaySession::xrgb);
    expect_screen(whole, inverted_gradient);
    ASSERT_EQ(ftruncate(fd, 0), 0);
    peer().update_map(0, 0, 0, W, H); // the shell reads the memory again
    EXPECT_TRUE(s().wait_screen([](const Image& i) { return count_colour(i, whole, 0x000000) > W * H / 2; }, 10s))
        << "the vanished memory should read as black";
    EXPECT_NE(s().shell().log().find("shared frame memory shrank"), std::string::npos) << s().shell().log();
    close(fd);
    ASSERT_TRUE(s().shell().running()) << s().shell().log();
    show_gradient();
    expect_alive_showing(whole, gradient);
}

} // namespace
} // namespace phyllome::test
