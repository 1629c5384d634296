// The real shell showing a fake QEMU D-Bus display: what reaches the screen (grim, pixel for
// pixel), what reaches the guest (wtype -> Keyboard.Press), and how the shell copes with a
// display that misbehaves, turns off, goes away or hands over a dmabuf.
#include <gtest/gtest.h>

#include <sys/mman.h>
#include <unistd.h>

#include <drm_fourcc.h>

#include <algorithm>
#include <cstring>

#include "fake_display_fixture.hpp"

namespace phyllome::test {
namespace {

using namespace std::chrono_literals;
using guestview::testing::InputCall;

bool keyboard(const InputCall& c, const std::string& method, std::int64_t qnum) {
    return c.method == "Keyboard." + method && !c.args.empty() && c.args[0] == qnum;
}

TEST_F(FakeDisplay, ScanoutIsCopiedToTheScreenPixelForPixel) {
    start();
    GuestStats st = stats();
    EXPECT_EQ(st.scanout_path, "") << "no frame yet";

    show_gradient();
    st = stats();
    EXPECT_EQ(st.view, "guest");
    EXPECT_EQ(st.shown_guest, "fake");
    EXPECT_EQ(st.scanout_width, W);
    EXPECT_EQ(st.scanout_height, H);
    EXPECT_EQ(st.scanout_path, "copy");
    EXPECT_EQ(st.frames, 1u);
    EXPECT_EQ(st.copies, 0u) << "a Scanout is shown from the message itself";
    EXPECT_EQ(st.bytes_copied, 0u);

    // Rows with padding: only width*4 bytes of each row are pixels.
    show_gradient(W * 4 + 64, inverted_gradient);
    st = stats();
    EXPECT_EQ(st.frames, 2u);
    EXPECT_EQ(st.copies, 0u);
    EXPECT_EQ(st.scanout_path, "copy");
    EXPECT_EQ(st.refused, 0u);
}

TEST_F(FakeDisplay, UpdateChangesExactlyItsRectangle) {
    start();
    show_gradient();
    const GuestStats before = stats();

    constexpr unsigned green = 0x12ab34;
    peer().update(0, 100, 100, 256, 256, 256 * 4, FakeDisplaySession::xrgb, solid(256, 256, green));
    const Rect r1{100, 100, 256, 256};
    auto first = [&](int x, int y) {
        return x >= r1.x && x < r1.x + r1.width && y >= r1.y && y < r1.y + r1.height ? green : gradient(x, y);
    };
    expect_screen(whole, first);
    GuestStats st = stats();
    EXPECT_EQ(st.frames, 2u);
    // The first Update promotes the message-backed surface to an owned buffer (one full copy),
    // then copies its rectangle.
    EXPECT_EQ(st.copies, 2u);
    EXPECT_EQ(st.bytes_copied, std::uint64_t{W} * H * 4 + 256 * 256 * 4);
    EXPECT_GT(st.frames_presented, before.frames_presented);
    // Memory accounting: at least guestview's own copy of the frame and one output buffer are
    // pixel buffers, and they are part of the resident set.
    EXPECT_GE(st.frame_buffers_kb, 2L * W * H * 4 / 1024) << s().shell().status_json();
    EXPECT_LE(st.frame_buffers_kb, st.rss_kb);

    // A second Update copies its rectangle, clipped to the surface. The frame fills the output
    // pixel for pixel, so the output scans it out and holds it: the Update goes to a second
    // buffer, which first takes everything the rectangle does not cover (its 64-pixel tiles
    // exactly: W*H*4 - 128*128*4 bytes).
    constexpr unsigned pink = 0xf0a0c0;
    peer().update(0, W - 128, H - 128, 256, 256, 256 * 4, FakeDisplaySession::xrgb, solid(256, 256, pink));
    expect_screen(whole, [&](int x, int y) { return x >= W - 128 && y >= H - 128 ? pink : first(x, y); });
    const GuestStats after = stats();
    EXPECT_EQ(after.copies, 4u);
    EXPECT_EQ(after.bytes_copied, st.bytes_copied + std::uint64_t{W} * H * 4);
    EXPECT_GT(after.scanout_commits, 0u);
    EXPECT_GT(after.frames_presented, st.frames_presented);
    EXPECT_EQ(after.scanout_path, "copy");
}

// 640x480 on 1280x800: scaled by 800/480 to 1066.7x800 and centred at x = 106, black bars beside.
class Letterbox : public FakeDisplay {
protected:
    static constexpr unsigned red = 0xff0000, green = 0x00ff00, blue = 0x0000ff, white = 0xffffff;
    static constexpr int left = 106;
    static Rect sample(int gx, int gy) {
        constexpr double scale = 800.0 / 480.0;
        return Rect{left + static_cast<int>(gx * scale) - 10, static_cast<int>(gy * scale) - 10, 20, 20};
    }
    // Sends four solid quadrants and returns the first screenshot with the top-left one placed.
    Image show_quadrants() {
        auto quadrant = [](int x, int y) { return y < 240 ? (x < 320 ? red : green) : (x < 320 ? blue : white); };
        peer().scanout(0, 640, 480, 640 * 4, FakeDisplaySession::xrgb, make_frame(640, 480, 640 * 4, quadrant));
        std::optional<Image> img;
        EXPECT_TRUE(s().wait_screen([&](const Image& i) { return count_colour(i, sample(160, 120), red) == 400; }, 10s,
                                    &img))
            << s().shell().status_json();
        const GuestStats st = stats();
        EXPECT_EQ(st.scanout_width, 640);
        EXPECT_EQ(st.scanout_height, 480);
        return img.value_or(Image{});
    }
};

TEST_F(Letterbox, SmallerScanoutIsCentredBetweenBlackBars) {
    start();
    const Image img = show_quadrants();
    ASSERT_EQ(img.width, W);
    EXPECT_EQ(count_colour(img, Rect{0, 0, 100, H}, 0x000000), 100 * H) << "left bar";
    EXPECT_EQ(count_colour(img, Rect{W - 100, 0, 100, H}, 0x000000), 100 * H) << "right bar";
    EXPECT_EQ(img.pixel(left - 1, 100), 0x000000u);
    EXPECT_EQ(img.pixel(left, 0), red) << "the picture starts at its centred offset";
}

// The whole frame is scaled to the output's height (not cropped, not shown 1:1), nearest
// neighbour, so every edge pixel keeps its colour.
TEST_F(Letterbox, SmallerScanoutIsScaledToFillTheHeight) {
    start();
    const Image img = show_quadrants();
    ASSERT_EQ(img.width, W);
    EXPECT_EQ(count_colour(img, sample(160, 120), red), 400);
    EXPECT_EQ(count_colour(img, sample(480, 120), green), 400);
    EXPECT_EQ(count_colour(img, sample(160, 360), blue), 400);
    EXPECT_EQ(count_colour(img, sample(480, 360), white), 400);
    // The picture reaches the bottom edge and ends where the right bar begins.
    EXPECT_EQ(img.pixel(left + 20, H - 1), blue);
    EXPECT_EQ(img.pixel(left + 1060, H - 1), white);
    EXPECT_EQ(img.pixel(left + 1070, H - 1), 0x000000u);
}

TEST_F(FakeDisplay, GuestCursorIsDrawnWhereTheGuestPutsIt) {
    start();
    show_gradient();
    constexpr unsigned magenta = 0xff00ff;
    std::vector<std::uint8_t> argb(16 * 16 * 4);
    for (std::size_t i = 0; i < argb.size(); i += 4)
        put_xrgb(&argb[i], magenta, 0xff); // B, G, R, A: opaque
    peer().cursor_define(0, 16, 16, 0, 0, argb);
    peer().mouse_set(0, 200, 300, true);
    const Rect cursor{200, 300, 16, 16};
    auto with_cursor = [&](int x, int y) {
        return x >= cursor.x && x < cursor.x + 16 && y >= cursor.y && y < cursor.y + 16 ? magenta : gradient(x, y);
    };
    expect_screen(Rect{150, 250, 100, 100}, with_cursor);

    peer().mouse_set(0, 200, 300, false);
    expect_screen(Rect{150, 250, 100, 100}, gradient);
}

TEST_F(FakeDisplay, KeysReachTheShownGuestButNeverTheHostKey) {
    if (!have_program("wtype"))
        GTEST_SKIP() << "wtype is not installed";
    FakeDisplaySession::Options o;
    o.extra_config = "[security]\nallow_virtual_input = true\n";
    start(o);
    show_gradient();

    auto calls = [&] { return peer().input_calls(); };
    auto has = [&](const std::string& method, std::int64_t qnum) {
        auto c = calls();
        return std::any_of(c.begin(), c.end(), [&](const InputCall& k) { return keyboard(k, method, qnum); });
    };
    auto index_of = [&](const std::string& method, std::int64_t qnum) {
        auto c = calls();
        return std::find_if(c.begin(), c.end(), [&](const InputCall& k) { return keyboard(k, method, qnum); }) -
               c.begin();
    };

    ASSERT_EQ(s().shell().wtype({"a"}).exit_code, 0);
    ASSERT_TRUE(s().pump_until([&] { return has("Release", 0x1e); }, 10s)) << "no Release of 'a' (qnum 0x1e)";
    ASSERT_TRUE(has("Press", 0x1e));
    EXPECT_LT(index_of("Press", 0x1e), index_of("Release", 0x1e));
    for (const auto& c : calls())
        if (c.method.starts_with("Keyboard.")) {
            EXPECT_EQ(c.console, 0u);
        }

    // Host key + Home: the overlay; neither key reaches the guest.
    ASSERT_EQ(s().shell().wtype({"-P", "Control_R", "-k", "Home", "-p", "Control_R"}).exit_code, 0);
    ASSERT_TRUE(s().wait_stats([](const GuestStats& g) { return g.view == "overlay"; }, 10s))
        << s().shell().status_json();

    // Typed while the overlay is shown: the guest must not see it. 'x' does nothing in the overlay.
    ASSERT_EQ(s().shell().wtype({"x"}).exit_code, 0);
    // Back to the guest; 'c' is a marker: calls on one connection arrive in order, so anything
    // sent for 'x' would be recorded before it.
    ASSERT_EQ(s().shell().ctl({"show", "fake"}).exit_code, 0);
    ASSERT_EQ(s().shell().wtype({"c"}).exit_code, 0);
    ASSERT_TRUE(s().pump_until([&] { return has("Release", 0x2e); }, 10s)) << "no Release of 'c' (qnum 0x2e)";
    EXPECT_FALSE(has("Press", 0x2d)) << "'x' typed on the overlay reached the guest";
    EXPECT_FALSE(has("Release", 0x2d));
    EXPECT_FALSE(has("Press", 0x9d)) << "the host key (Right Ctrl) reached the guest";
    EXPECT_FALSE(has("Release", 0x9d));
    EXPECT_FALSE(has("Press", 0xc7)) << "Home of the host chord reached the guest";
    EXPECT_FALSE(has("Release", 0xc7));
}

TEST_F(FakeDisplay, DisableShowsDisplayOffInsteadOfTheOldFrame) {
    start();
    show_gradient();
    peer().disable(0);
    GuestStats st;
    ASSERT_TRUE(s().wait_stats([](const GuestStats& g) { return g.scanout_path.empty(); }, 10s, &st))
        << s().shell().status_json();
    EXPECT_EQ(st.display, "connected");
    EXPECT_EQ(st.view, "guest");
    // The "display off" message: mostly the message background, none of the old frame.
    std::optional<Image> img;
    EXPECT_TRUE(s().wait_screen([](const Image& i) { return count_colour(i, whole, overlay_background) > W * H / 2; },
                                10s, &img));
    ASSERT_TRUE(img.has_value());
    EXPECT_GT(mismatches(*img, whole, gradient), W * H / 2);
    EXPECT_GT(mismatches(*img, whole, [](int, int) { return overlay_background; }), 100) << "the message text";

    // The next frame brings the picture back.
    show_gradient();
}

TEST_F(FakeDisplay, MalformedMessagesAreRefusedAndTheLastFrameStays) {
    start();
    show_gradient();
    const GuestStats before = stats();
    // An Update whose data is shorter than its rectangle.
    std::vector<std::uint8_t> short_data(100, 0xff);
    peer().update(0, 100, 100, 256, 256, 256 * 4, FakeDisplaySession::xrgb, short_data);
    // An empty surface.
    peer().scanout(0, 0, 0, 0, FakeDisplaySession::xrgb, {});
    // A surface far too large for the bytes it brings.
    std::vector<std::uint8_t> tiny(16, 0xff);
    peer().scanout(0, 100000, 100000, 400000, FakeDisplaySession::xrgb, tiny);
    // A Scanout with too little data for its own claim.
    peer().scanout(0, W, H, W * 4, FakeDisplaySession::xrgb, tiny);

    GuestStats st;
    EXPECT_TRUE(s().wait_stats([&](const GuestStats& g) { return g.refused >= before.refused + 4; }, 10s, &st))
        << s().shell().status_json();
    EXPECT_EQ(st.refused, before.refused + 4);
    EXPECT_EQ(st.frames, before.frames);
    EXPECT_EQ(st.scanout_width, W);
    EXPECT_EQ(st.display, "connected");
    EXPECT_TRUE(s().shell().running());
    expect_screen(whole, gradient);
}

TEST_F(FakeDisplay, PeerClosingShowsTheOverlayAndTheDisplayComesBack) {
    start();
    show_gradient();
    peer().close_listener(0);
    peer().close_main();
    s().drop_peer(); // nobody listens until restart_peer()
    GuestStats st;
    ASSERT_TRUE(s().wait_stats([](const GuestStats& g) { return g.view == "overlay"; }, 10s, &st))
        << s().shell().status_json();
    EXPECT_NE(st.display, "connected");
    EXPECT_TRUE(s().shell().running());

    // QEMU is back on the same socket: the shell reconnects by itself and shows it again.
    s().restart_peer();
    ASSERT_TRUE(s().wait_attached(15s)) << s().shell().status_json() << s().shell().log();
    show_gradient(W * 4, inverted_gradient);
    EXPECT_EQ(stats().frames, 1u) << "a new connection counts afresh";
}

TEST_F(FakeDisplay, LinearDmabufIsShownOnThePixmanRenderer) {
    start();
    const auto pixels = make_frame(W, H, W * 4, gradient);
    const int fd = memfd_create("fake-dmabuf", MFD_CLOEXEC);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(ftruncate(fd, static_cast<off_t>(pixels.size())), 0);
    ASSERT_EQ(pwrite(fd, pixels.data(), pixels.size(), 0), static_cast<ssize_t>(pixels.size()));
    peer().scanout_dmabuf(0, fd, W, H, W * 4, DRM_FORMAT_XRGB8888, DRM_FORMAT_MOD_LINEAR, false);
    close(fd); // sd-bus sent its own duplicate
    GuestStats st;
    ASSERT_TRUE(s().wait_stats([](const GuestStats& g) { return g.scanout_path == "dmabuf"; }, 10s, &st))
        << s().shell().status_json() << s().shell().log();
    EXPECT_EQ(st.refused, 0u);
    expect_screen(whole, gradient);
}

} // namespace
} // namespace phyllome::test
