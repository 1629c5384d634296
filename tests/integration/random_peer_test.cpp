// A long randomized run through the whole render path: a display peer sends a seeded random
// mix of valid and hostile Listener messages (surfaces of every known format, size and stride,
// updates anywhere, shared-memory and dmabuf surfaces with fds of any size or kind, cursors
// and pointer positions of any value, malformed signatures) while the shell decodes them,
// shows them through GuestView, draws the cursor and commits its output. The shell must never
// die, must keep answering, and must show the next valid frame exactly.
//   PHYLLOME_RANDOM_PEER_SEED=N      replays one run (the seed is printed on failure)
//   PHYLLOME_RANDOM_PEER_MESSAGES=N  makes it longer (default 1500)
#include <gtest/gtest.h>

#include <sys/mman.h>
#include <unistd.h>

#include <drm_fourcc.h>

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <random>

#include "fake_display_fixture.hpp"
#include "guestview/display/pixel_format.hpp"
#include "loop_pump.hpp"

namespace phyllome::test {
namespace {

using namespace std::chrono_literals;

unsigned long env_number(const char* name, unsigned long fallback) {
    const char* v = std::getenv(name);
    return v && *v ? std::strtoul(v, nullptr, 10) : fallback;
}

class RandomPeer {
public:
    RandomPeer(guestview::testing::FakeQemuDisplay& peer, unsigned seed) : peer_(peer), rng_(seed) {}

    void send_one() {
        switch (pick(0, 11)) {
        case 0: case 1: scanout(); break;
        case 2: case 3: update(); break;
        case 4: scanout_map(); break;
        case 5: peer_.update_map(0, coordinate(), coordinate(), size(), size()); break;
        case 6: scanout_dmabuf(); break;
        case 7: peer_.update_dmabuf(0, coordinate(), coordinate(), size(), size()); break;
        case 8: cursor(); break;
        case 9: case 10: peer_.mouse_set(0, coordinate(), coordinate(), pick(0, 3) != 0); break;
        default: odd_message(); break;
        }
    }

private:
    int pick(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
    std::int32_t extreme() {
        static constexpr std::int32_t values[] = {INT32_MIN, INT32_MIN + 1, -65536, -1, 0, 1, 65535, INT32_MAX - 1, INT32_MAX};
        return values[pick(0, 8)];
    }
    std::int32_t coordinate() { return pick(0, 4) == 0 ? extreme() : pick(-100, 1400); }
    std::int32_t size() { return pick(0, 4) == 0 ? extreme() : pick(0, 700); }
    std::uint32_t dimension() { return pick(0, 9) == 0 ? static_cast<std::uint32_t>(extreme()) : static_cast<std::uint32_t>(pick(1, 640)); }
    std::uint32_t format() {
        const auto known = guestview::known_pixel_formats();
        return pick(0, 9) == 0 ? static_cast<std::uint32_t>(extreme()) : known[static_cast<std::size_t>(pick(0, static_cast<int>(known.size()) - 1))].pixman;
    }
    std::uint32_t stride_for(std::uint32_t width, std::uint32_t format_code) {
        const auto f = guestview::pixel_format_from_pixman(format_code);
        const std::uint64_t tight = std::uint64_t{width} * (f ? f->bytes_per_pixel : 4);
        switch (pick(0, 5)) {
        case 0: return static_cast<std::uint32_t>(tight + static_cast<std::uint64_t>(pick(1, 7))); // odd padding
        case 1: return static_cast<std::uint32_t>(tight / 2);                                       // too short
        default: return static_cast<std::uint32_t>(tight);
        }
    }
    // Bytes a surface claims, capped so a run stays quick: some messages bring less than they claim.
    std::vector<std::uint8_t> data_for(std::uint64_t claimed) {
        std::uint64_t n = std::min<std::uint64_t>(claimed, 640 * 480 * 4);
        if (pick(0, 7) == 0)
            n = static_cast<std::uint64_t>(pick(0, 4096));
        return std::vector<std::uint8_t>(n, static_cast<std::uint8_t>(pick(0, 255)));
    }
    int memfd_of(std::uint64_t bytes) {
        const int fd = memfd_create("random-peer", MFD_CLOEXEC);
        EXPECT_GE(fd, 0);
        EXPECT_EQ(ftruncate(fd, static_cast<off_t>(std::min<std::uint64_t>(bytes, 64u << 20))), 0);
        return fd;
    }
    void scanout() {
        const std::uint32_t w = dimension(), h = dimension(), f = format(), stride = stride_for(w, f);
        peer_.scanout(0, w, h, stride, f, data_for(std::uint64_t{stride} * h));
    }
    void update() {
        const std::int32_t w = size(), h = size();
        const std::uint32_t f = format(), stride = stride_for(static_cast<std::uint32_t>(std::max(w, 0)), f);
        peer_.update(0, coordinate(), coordinate(), w, h, stride, f,
                     data_for(std::uint64_t{stride} * static_cast<std::uint32_t>(std::max(h, 0))));
    }
    void scanout_map() {
        const std::uint32_t w = dimension(), h = dimension(), f = format(), stride = stride_for(w, f);
        const std::uint64_t claimed = std::uint64_t{stride} * h;
        const int fd = memfd_of(pick(0, 3) == 0 ? claimed / 2 : claimed);
        peer_.scanout_map(0, fd, pick(0, 7) == 0 ? static_cast<std::uint32_t>(pick(1, 4096)) : 0, w, h, stride, f);
        close(fd);
    }
    void scanout_dmabuf() {
        const std::uint32_t w = dimension(), h = dimension(), stride = w * 4;
        const std::uint64_t claimed = std::uint64_t{stride} * h;
        const int fd = memfd_of(pick(0, 3) == 0 ? claimed / 3 : claimed);
        const std::uint64_t modifier = pick(0, 3) == 0 ? I915_FORMAT_MOD_X_TILED : DRM_FORMAT_MOD_LINEAR;
        const std::uint32_t fourcc = pick(0, 5) == 0 ? DRM_FORMAT_RGB888 : DRM_FORMAT_XRGB8888;
        peer_.scanout_dmabuf(0, fd, w, h, stride, fourcc, modifier, pick(0, 1) == 1);
        close(fd);
    }
    void cursor() {
        const std::int32_t w = pick(0, 5) == 0 ? extreme() : pick(0, 80), h = pick(0, 5) == 0 ? extreme() : pick(0, 80);
        const std::uint64_t claimed = std::uint64_t{static_cast<std::uint32_t>(std::max(w, 0))} * static_cast<std::uint32_t>(std::max(h, 0)) * 4;
        std::vector<std::uint8_t> argb(std::min<std::uint64_t>(pick(0, 5) == 0 ? claimed / 2 : claimed, 80 * 80 * 4), 0xff);
        peer_.cursor_define(0, w, h, pick(0, 2) == 0 ? extreme() : pick(-100, 100),
                            pick(0, 2) == 0 ? extreme() : pick(-100, 100), argb);
    }
    // Right names, wrong signatures: sd-bus delivers them and the listener must refuse them.
    void odd_message() {
        static constexpr const char* members[] = {"Scanout", "Update", "CursorDefine", "MouseSet", "ScanoutMap", "Disable"};
        const char* member = members[pick(0, 5)];
        const int kind = pick(0, 2);
        peer_.send_raw(0, "org.qemu.Display1.Listener", member, [&](sd_bus_message* m) {
            switch (kind) {
            case 0: return sd_bus_message_append(m, "s", "not pixels");
            case 1: return sd_bus_message_append(m, "ii", INT32_MIN, INT32_MAX);
            default: return 0; // no arguments at all
            }
        });
    }

    guestview::testing::FakeQemuDisplay& peer_;
    std::mt19937 rng_;
};

TEST_F(FakeDisplay, RandomHostileMessagesNeverEndTheSession) {
    start();
    show_gradient();
    const unsigned seed = static_cast<unsigned>(env_number("PHYLLOME_RANDOM_PEER_SEED", std::random_device{}()));
    const unsigned long messages = env_number("PHYLLOME_RANDOM_PEER_MESSAGES", 1500);
    SCOPED_TRACE("PHYLLOME_RANDOM_PEER_SEED=" + std::to_string(seed));
    RandomPeer random(peer(), seed);
    for (unsigned long i = 0; i < messages; ++i) {
        random.send_one();
        // Let the shell read, render and commit between messages, without queueing unboundedly.
        pump_loop_until(s().loop(), [&] { return !peer().listener_backlogged(0); }, 5s);
        if (i % 25 == 24) {
            s().pump(std::chrono::milliseconds(20));
            ASSERT_TRUE(s().shell().running()) << "the shell died after message " << i << ": " << s().shell().log();
        }
    }
    ASSERT_TRUE(s().shell().running()) << s().shell().log();
    // The display is still connected and a valid frame is shown exactly, cursor hidden.
    peer().mouse_set(0, 0, 0, false);
    show_gradient();
    const GuestStats st = stats();
    EXPECT_EQ(st.display, "connected");
    // The mix reached the render path, not only the decoder's refusals.
    EXPECT_GT(st.frames, messages / 10) << s().shell().status_json();
    EXPECT_GT(st.refused, messages / 10) << s().shell().status_json();
    EXPECT_GT(st.frames_presented, messages / 50) << s().shell().status_json();
    std::printf("random peer: seed %u, %lu messages: %llu frames, %llu refused, %llu presented\n", seed, messages,
                static_cast<unsigned long long>(st.frames), static_cast<unsigned long long>(st.refused),
                static_cast<unsigned long long>(st.frames_presented));
}

} // namespace
} // namespace phyllome::test
