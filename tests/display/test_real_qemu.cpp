// The display client against a real QEMU (7.2 on Debian 12, 10.0 on Debian 13; TCG, OVMF,
// virtio-gpu-pci, -display dbus,p2p=on).
#include <gtest/gtest.h>

#include <chrono>

#include "config/log.hpp"
#include "guestview/display/display_connection.hpp"
#include "guestview/input/evdev_to_qnum.hpp"
#include "tests/display/loop_runner.hpp"
#include "tests/display/qemu_process.hpp"

#include <linux/input-event-codes.h>

namespace phyllome::guestview {
namespace {

using namespace std::chrono_literals;

bool has_visible_pixels(const Frame& frame) {
    if (!frame.pixels() || frame.format().bytes_per_pixel != 4)
        return false;
    for (std::uint32_t y = 0; y < frame.height(); ++y) {
        const auto* row = reinterpret_cast<const std::uint32_t*>(frame.pixels() + std::size_t(y) * frame.stride());
        for (std::uint32_t x = 0; x < frame.width(); ++x)
            if (row[x] & 0x00ffffffu) // ignore the X/alpha byte
                return true;
    }
    return false;
}

TEST(RealQemu, ShowsTheFirmwareScreenAndTakesAKey) {
    if (auto missing = testing::QemuProcess::missing_requirement(); !missing.empty())
        GTEST_SKIP() << missing;
    testing::LoopRunner runner;
    testing::QemuProcess qemu;
    const auto attach_start = std::chrono::steady_clock::now();
    const int fd = qemu.open_graphics_fd(20s);

    // A whole 1280x800 surface from QEMU, zero copy: QEMU 7.2 sends it inline (Scanout); 9.2+
    // maps a memfd instead (ScanoutMap) because our listener advertises Listener.Unix.Map, and
    // falls back to inline Scanout for a surface without one. Either is a full scanout.
    bool got_full_scanout = false;
    std::vector<Disconnect> disconnects;
    DisplayCallbacks callbacks;
    callbacks.frame = [&](std::uint32_t, const FrameEvent& event) {
        const FrameStorage storage = event.frame->storage();
        if ((storage == FrameStorage::ScanoutMessage || storage == FrameStorage::SharedMemory) &&
            event.frame->width() == 1280 && event.frame->height() == 800)
            got_full_scanout = true;
    };
    callbacks.disconnected = [&](const Disconnect& d) { disconnects.push_back(d); };
    std::string error;
    auto display = DisplayConnection::from_fd(runner.loop(), fd, "qemu-test", callbacks, error);
    ASSERT_TRUE(display) << error;

    // OVMF under TCG takes a while to draw anything.
    const bool visible = runner.run_until(
        [&] {
            auto frame = display->current_frame(0);
            return got_full_scanout && frame && has_visible_pixels(*frame);
        },
        60s);
    ASSERT_TRUE(got_full_scanout) << "no 1280x800 Scanout or ScanoutMap from QEMU";
    ASSERT_TRUE(visible) << "the guest screen stayed blank";
    const auto shown_after = std::chrono::steady_clock::now() - attach_start;
    const ConsoleInfo* console = display->console(0);
    ASSERT_NE(console, nullptr);
    EXPECT_TRUE(console->graphic());
    EXPECT_EQ(console->width, 1280u);
    const FrameStats stats = display->stats(0);
    log::info("real QEMU: first visible frame after {} ms; {} frames ({} scanouts, {} updates), {} copies, "
              "{} bytes copied",
              std::chrono::duration_cast<std::chrono::milliseconds>(shown_after).count(), stats.frames_received,
              stats.scanouts, stats.updates, stats.copies, stats.bytes_copied);

    // Enter, as a user would type it.
    const std::uint32_t enter = *evdev_to_qnum(KEY_ENTER);
    display->key(0, enter, true);
    display->key(0, enter, false);
    ASSERT_TRUE(runner.run_until([&] { return display->input_stats().acknowledged + display->input_stats().failed >= 2; },
                                 10s));
    EXPECT_EQ(display->input_stats().failed, 0u);
    EXPECT_EQ(display->input_stats().acknowledged, 2u);
    EXPECT_TRUE(display->held_keys(0).empty());
    EXPECT_TRUE(disconnects.empty());
}

} // namespace
} // namespace phyllome::guestview
