// The FakeDisplay fixture (the real shell showing a fake QEMU display) and the pixel helpers
// its tests compare screenshots with.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "fake_display_session.hpp"

namespace phyllome::test {

inline constexpr int W = 1280, H = 800;
inline constexpr unsigned overlay_background = 0x1b1d23;

// Every pixel of a 1280x800 frame tells its position: R and G the low bits of x and y, B the rest.
inline unsigned gradient(int x, int y) {
    const unsigned b = ((x >> 8) << 5) | ((y >> 8) << 3) | ((x ^ y) & 7);
    return (static_cast<unsigned>(x & 0xff) << 16) | (static_cast<unsigned>(y & 0xff) << 8) | b;
}
inline unsigned inverted_gradient(int x, int y) { return gradient(x, y) ^ 0xffffff; }

// A frame of `colour(x, y)`; the X byte is 0 (an x8 format must ignore it) and row padding is junk.
inline std::vector<std::uint8_t> make_frame(int w, int h, int stride,
                                            const std::function<unsigned(int, int)>& colour) {
    std::vector<std::uint8_t> data(static_cast<std::size_t>(stride) * h, 0xa5);
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x)
            put_xrgb(&data[static_cast<std::size_t>(y) * stride + static_cast<std::size_t>(x) * 4], colour(x, y));
    return data;
}

inline std::vector<std::uint8_t> solid(int w, int h, unsigned rgb) {
    return make_frame(w, h, w * 4, [rgb](int, int) { return rgb; });
}

// Pixels of `r` that differ from `expected`; the first few are described in `why`.
inline int mismatches(const Image& img, const Rect& r, const std::function<unsigned(int, int)>& expected,
                      std::string* why = nullptr) {
    int n = 0;
    std::ostringstream out;
    for (int y = r.y; y < r.y + r.height; ++y)
        for (int x = r.x; x < r.x + r.width; ++x) {
            const unsigned want = expected(x, y), got = img.pixel(x, y);
            if (want == got)
                continue;
            if (n++ < 5)
                out << std::hex << " (" << std::dec << x << "," << y << std::hex << ") got " << got << " want "
                    << want << ";";
        }
    if (why)
        *why = out.str();
    return n;
}

inline int count_colour(const Image& img, const Rect& r, unsigned colour) {
    return r.width * r.height - mismatches(img, r, [colour](int, int) { return colour; });
}

inline const Rect whole{0, 0, W, H};

class FakeDisplay : public ::testing::Test {
protected:
    void start(FakeDisplaySession::Options options = {}) {
        if (!have_program("grim"))
            GTEST_SKIP() << "grim is not installed";
        session = std::make_unique<FakeDisplaySession>(options);
        ASSERT_TRUE(session->shell().started()) << session->shell().log();
        ASSERT_TRUE(session->wait_attached(std::chrono::seconds(20))) << session->shell().status_json() << session->shell().log();
    }
    void TearDown() override {
        if (session) {
            EXPECT_TRUE(session->shell().running()) << "the shell died: " << session->shell().log();
        }
    }

    FakeDisplaySession& s() { return *session; }
    guestview::testing::FakeQemuDisplay& peer() { return session->peer(); }

    // Sends the gradient as a Scanout and waits until the shell shows it exactly.
    void show_gradient(int stride = W * 4, const std::function<unsigned(int, int)>& colour = gradient) {
        const auto frame = make_frame(W, H, stride, colour);
        peer().scanout(0, W, H, static_cast<std::uint32_t>(stride), FakeDisplaySession::xrgb, frame);
        expect_screen(whole, colour);
    }

    // Waits for a screenshot whose `r` is exactly `colour`; reports the differences otherwise.
    void expect_screen(const Rect& r, const std::function<unsigned(int, int)>& colour) {
        std::optional<Image> img;
        const bool ok = s().wait_screen(
            [&](const Image& i) { return i.width == W && i.height == H && mismatches(i, r, colour) == 0; }, std::chrono::seconds(15),
            &img);
        ASSERT_TRUE(img.has_value()) << "no screenshot";
        std::string why;
        const int bad = img->width == W ? mismatches(*img, r, colour, &why) : -1;
        EXPECT_TRUE(ok) << bad << " pixels differ:" << why << "\n" << s().shell().status_json();
    }

    GuestStats stats() {
        auto st = s().stats();
        EXPECT_TRUE(st.has_value()) << s().shell().status_json();
        return st.value_or(GuestStats{});
    }

    std::unique_ptr<FakeDisplaySession> session;
};

} // namespace phyllome::test
