// ScanoutDMABUF2 (QEMU 10.1) reaching the real shell on the pixman renderer: a linear
// single-plane buffer is cropped to its visible sub-rectangle pixel for pixel; a two-plane one
// cannot be sampled by the CPU and gets the "cannot be shown" message, and the shell goes on.
// memfds stand in for dmabufs, as in FakeDisplay.LinearDmabufIsShownOnThePixmanRenderer.
#include <gtest/gtest.h>

#include <sys/mman.h>
#include <unistd.h>

#include <drm_fourcc.h>

#include <algorithm>

#include "fake_display_fixture.hpp"
#include "tests/display/fake_dmabuf2.hpp"

namespace phyllome::test {
namespace {

using namespace std::chrono_literals;
using guestview::testing::Dmabuf2Scanout;
using guestview::testing::DmabufSent;

constexpr unsigned outside = 0xff00ff; // never visible: the part of the backing buffer cropped away

int memfd_with(const std::vector<std::uint8_t>& bytes, std::size_t offset) {
    const int fd = memfd_create("fake-dmabuf2", MFD_CLOEXEC);
    EXPECT_GE(fd, 0);
    EXPECT_EQ(ftruncate(fd, static_cast<off_t>(offset + bytes.size())), 0);
    EXPECT_EQ(pwrite(fd, bytes.data(), bytes.size(), static_cast<off_t>(offset)), static_cast<ssize_t>(bytes.size()));
    return fd;
}

// The client tells QEMU at registration which extensions it implements; the fake decides from
// that, as QEMU 10.1 does.
void wait_probe(FakeDisplaySession& session) {
    ASSERT_TRUE(session.pump_until([&] { return session.peer().probe(0).answered; }, 10s));
    const auto& list = session.peer().probe(0).interfaces;
    ASSERT_NE(std::ranges::find(list, guestview::testing::dmabuf2_interface), list.end());
}

TEST_F(FakeDisplay, Dmabuf2LinearSinglePlaneShowsOnlyItsVisibleSubRectangle) {
    start();
    ASSERT_NO_FATAL_FAILURE(wait_probe(s()));
    // A backing buffer larger than the screen on every side, the gradient at +64+24 of it, the
    // plane 1000 bytes into its memory (not page-aligned: the shell maps from 0 and steps over).
    constexpr int bw = W + 96, bh = H + 40, vx = 64, vy = 24;
    constexpr std::size_t offset = 1000;
    const auto pixels = make_frame(bw, bh, bw * 4, [](int x, int y) {
        const int gx = x - vx, gy = y - vy;
        return gx >= 0 && gy >= 0 && gx < W && gy < H ? gradient(gx, gy) : outside;
    });
    const int fd = memfd_with(pixels, offset);
    Dmabuf2Scanout scanout = guestview::testing::planes_scanout(
        {fd}, {static_cast<std::uint32_t>(offset)}, {bw * 4}, bw, bh, DRM_FORMAT_XRGB8888, DRM_FORMAT_MOD_LINEAR);
    scanout.x = vx;
    scanout.y = vy;
    scanout.width = W;
    scanout.height = H;
    ASSERT_EQ(guestview::testing::send_scanout_dmabuf2(peer(), 0, scanout), DmabufSent::Version2);
    close(fd); // sd-bus sent its own duplicate
    GuestStats st;
    ASSERT_TRUE(s().wait_stats([](const GuestStats& g) { return g.scanout_path == "dmabuf"; }, 10s, &st))
        << s().shell().status_json() << s().shell().log();
    EXPECT_EQ(st.refused, 0u);
    EXPECT_EQ(st.scanout_width, W) << "the shell sees the visible size, not the backing buffer's";
    EXPECT_EQ(st.scanout_height, H);
    expect_screen(whole, gradient);
}

TEST_F(FakeDisplay, Dmabuf2TwoPlanesShowTheCannotBeShownMessageAndTheShellGoesOn) {
    start();
    ASSERT_NO_FATAL_FAILURE(wait_probe(s()));
    show_gradient();
    const GuestStats before = stats();
    // Plane 0 holds a perfectly readable inverted gradient: showing it alone would be wrong
    // (the second plane belongs to the picture), so the screen must not show it.
    const auto colour = make_frame(W, H, W * 4, inverted_gradient);
    const int colour_fd = memfd_with(colour, 0);
    const int aux_fd = memfd_with(std::vector<std::uint8_t>(4096, 0), 0);
    const Dmabuf2Scanout scanout = guestview::testing::planes_scanout(
        {colour_fd, aux_fd}, {0, 0}, {W * 4, 64}, W, H, DRM_FORMAT_XRGB8888, DRM_FORMAT_MOD_LINEAR);
    ASSERT_EQ(guestview::testing::send_scanout_dmabuf2(peer(), 0, scanout), DmabufSent::Version2);
    close(colour_fd);
    close(aux_fd);

    std::optional<Image> img;
    EXPECT_TRUE(s().wait_screen(
        [](const Image& i) { return count_colour(i, whole, overlay_background) > W * H / 2; }, 10s, &img))
        << s().shell().status_json();
    ASSERT_TRUE(s().shell().running()) << s().shell().log();
    ASSERT_TRUE(img.has_value());
    EXPECT_GT(mismatches(*img, whole, inverted_gradient), W * H / 2) << "plane 0 alone was shown";
    EXPECT_GT(mismatches(*img, whole, [](int, int) { return overlay_background; }), 100) << "the message text";
    const std::string log = s().shell().log();
    EXPECT_NE(log.find("guest fake: the renderer cannot show its 1280x800 screen"), std::string::npos) << log;
    const GuestStats st = stats();
    EXPECT_EQ(st.refused, before.refused) << "a well-formed message, only not showable here";
    EXPECT_EQ(st.frames, before.frames + 1);

    // An UpdateDMABUF for it is answered and changes nothing; an ordinary Scanout of the same
    // size is shown again.
    auto update = peer().update_dmabuf(0, 0, 0, 16, 16);
    EXPECT_TRUE(s().pump_until([&] { return update->answered; }, 10s));
    EXPECT_EQ(update->error, "");
    show_gradient();
    EXPECT_TRUE(s().shell().running());
}

} // namespace
} // namespace phyllome::test
