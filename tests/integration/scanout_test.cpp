// Direct scan-out: a guest frame that fills the output pixel for pixel is committed as the
// output's buffer, without the renderer's copy. The screen must stay exact through it: updates
// to a frame the output holds, a cursor or a letterbox that turns it off, and back.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "fake_display_fixture.hpp"

namespace phyllome::test {
namespace {

using namespace std::chrono_literals;

class Scanout : public FakeDisplay {
protected:
    // The gradient on screen, then scan-out on (once the identity banner is gone).
    void start_scanning_out() {
        start();
        show_gradient();
        model.resize(std::size_t{W} * H);
        for (int y = 0; y < H; ++y)
            for (int x = 0; x < W; ++x)
                model[std::size_t(y) * W + x] = gradient(x, y);
        GuestStats st;
        ASSERT_TRUE(s().wait_stats([](const GuestStats& g) { return g.output_scanout && g.scanout_commits > 0; }, 10s,
                                   &st))
            << s().shell().status_json();
    }
    // Sends an Update of `colour` and records it in the model.
    void update(int x, int y, int w, int h, unsigned colour) {
        peer().update(0, x, y, w, h, static_cast<std::uint32_t>(w) * 4, FakeDisplaySession::xrgb, solid(w, h, colour));
        for (int row = y; row < y + h; ++row)
            for (int col = x; col < x + w; ++col)
                model[std::size_t(row) * W + col] = colour;
    }
    unsigned modelled(int x, int y) const { return model[std::size_t(y) * W + x]; }

    std::vector<unsigned> model;
};

TEST_F(Scanout, AFrameThatFillsTheOutputIsShownFromItsOwnBuffer) {
    start_scanning_out();
    const GuestStats before = stats();
    EXPECT_TRUE(before.output_scanout);
    // A new Scanout is committed as it is: more scan-out commits, counted as presented.
    show_gradient(W * 4, inverted_gradient);
    GuestStats after;
    EXPECT_TRUE(s().wait_stats(
        [&](const GuestStats& g) {
            return g.scanout_commits > before.scanout_commits && g.frames_presented > before.frames_presented;
        },
        5s, &after))
        << s().shell().status_json();
    EXPECT_TRUE(after.output_scanout);
    EXPECT_TRUE(after.present_p50_ms.has_value());
    EXPECT_EQ(after.copies, 0u) << "a Scanout is shown from the message itself";
}

// Each Update after a commit finds its frame held by the output and goes to the other buffer,
// which catches up only the tiles it missed: every screenshot must still match the model byte
// for byte, rectangles off the 64-pixel tile grid included.
TEST_F(Scanout, UpdatesToAHeldFrameReachTheScreenByteExact) {
    start_scanning_out();
    const GuestStats before = stats();
    GuestStats warm; // once both buffers exist: the first Update promotes, the first switch fills a new one
    std::uint32_t seed = 12345;
    auto next = [&](int limit) {
        seed = seed * 1103515245u + 12345u;
        return static_cast<int>((seed >> 8) % static_cast<std::uint32_t>(limit));
    };
    for (int round = 0; round < 6; ++round) {
        for (int i = 0; i < 3; ++i) { // several Updates between two commits, as QEMU sends them
            const int w = 1 + next(300), h = 1 + next(200);
            update(next(W - w), next(H - h), w, h, 0x010203u * static_cast<unsigned>(round * 3 + i + 1) ^ 0x5a3c96);
        }
        update(0, next(H - 40), W, 40, 0x204060u + static_cast<unsigned>(round)); // a full-width band
        expect_screen(whole, [&](int x, int y) { return modelled(x, y); });
        if (round == 1)
            warm = stats();
    }
    const GuestStats after = stats();
    EXPECT_TRUE(after.output_scanout);
    EXPECT_GE(after.scanout_commits, before.scanout_commits + 6);
    // Catching up copies the tiles the other buffer missed, not the surface: four rounds of at
    // most 4 x 300x200 + a band stay well under two surfaces (a copy per switch would be four).
    EXPECT_LT(after.bytes_copied - warm.bytes_copied, std::uint64_t{W} * H * 4 * 2);
}

TEST_F(Scanout, ACursorOrALetterboxTurnsItOffAndTheScreenStaysExact) {
    start_scanning_out();
    // Changed while scanned out: the output's own buffers never saw this.
    update(300, 200, 400, 300, 0x33cc66);
    expect_screen(whole, [&](int x, int y) { return modelled(x, y); });

    constexpr unsigned magenta = 0xff00ff;
    std::vector<std::uint8_t> argb(16 * 16 * 4);
    for (std::size_t i = 0; i < argb.size(); i += 4)
        put_xrgb(&argb[i], magenta, 0xff);
    peer().cursor_define(0, 16, 16, 0, 0, argb);
    peer().mouse_set(0, 640, 400, true);
    auto with_cursor = [&](int x, int y) {
        return x >= 640 && x < 656 && y >= 400 && y < 416 ? magenta : modelled(x, y);
    };
    // Painted again, the whole output: the frame and the cursor, nothing stale around them.
    expect_screen(whole, with_cursor);
    GuestStats st = stats();
    EXPECT_FALSE(st.output_scanout) << "a cursor over the frame needs painting";

    peer().mouse_set(0, 640, 400, false);
    const std::uint64_t painted_at = st.scanout_commits;
    EXPECT_TRUE(s().wait_stats([&](const GuestStats& g) { return g.output_scanout && g.scanout_commits > painted_at; },
                               10s))
        << s().shell().status_json();
    expect_screen(whole, [&](int x, int y) { return modelled(x, y); });

    // 640x480 on 1280x800: scaled with black bars, so painted.
    peer().scanout(0, 640, 480, 640 * 4, FakeDisplaySession::xrgb, solid(640, 480, 0x0000ff));
    std::optional<Image> img;
    EXPECT_TRUE(s().wait_screen([](const Image& i) { return count_colour(i, Rect{0, 0, 100, H}, 0x000000) == 100 * H &&
                                                            count_colour(i, Rect{200, 0, 880, H}, 0x0000ff) == 880 * H; },
                                10s, &img))
        << s().shell().status_json();
    EXPECT_FALSE(stats().output_scanout);
}

TEST_F(Scanout, TheOverlayTurnsItOff) {
    start_scanning_out();
    ASSERT_EQ(s().shell().ctl({"overlay"}).exit_code, 0);
    ASSERT_TRUE(s().wait_stats([](const GuestStats& g) { return g.view == "overlay" && !g.output_scanout; }, 10s))
        << s().shell().status_json();
    std::optional<Image> img;
    EXPECT_TRUE(s().wait_screen([](const Image& i) { return count_colour(i, whole, overlay_background) > W * H / 2; },
                                10s, &img));
    ASSERT_EQ(s().shell().ctl({"show", "fake"}).exit_code, 0);
    expect_screen(whole, [&](int x, int y) { return modelled(x, y); });
    EXPECT_TRUE(s().wait_stats([](const GuestStats& g) { return g.output_scanout; }, 10s)) << s().shell().status_json();
}

} // namespace
} // namespace phyllome::test
