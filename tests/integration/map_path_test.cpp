// QEMU 9.2+'s map path with a real guest: a Linux guest's virtio-gpu surface lives in a memfd
// that QEMU shares with the listener (ScanoutMap, then UpdateMap rectangles with no pixels).
// The shell must show it from QEMU's memory (status "path": "map", nothing copied) and pixel
// for pixel what QEMU's own screendump (libvirt's screenshot) shows. The guest is the
// benchmark's (scripts/build-bench-guest: Debian's kernel and busybox, assembled once and
// cached), drawing for two seconds and then holding its last frame.
#include <gtest/gtest.h>

#include <unistd.h>

#include <fstream>
#include <iterator>
#include <string>

#include "fake_display_session.hpp"
#include "linux_test_guest.hpp"
#include "shell_process.hpp"
#include "tests/bench/bench_guest.hpp"

namespace phyllome::test {
namespace {

using namespace std::chrono_literals;

TEST(MapPath, ALinuxGuestsVirtioGpuSurfaceIsShownFromQemusMemoryPixelExact) {
    bench::BenchGuestSpec spec;
    if (const std::string why = linux_test_guest_missing(spec.kernel_dir, {"virsh"}); !why.empty())
        GTEST_SKIP() << why;
    spec.embed_root = "/var/tmp/phyllome-map-path-embed-" + std::to_string(getuid());
    spec.name = "phyllome-map-path";
    spec.fps = 20;
    spec.seconds = 2;
    bench::BenchGuest guest(spec);
    const std::string error = guest.start();
    ASSERT_TRUE(error.empty()) << error;
    ASSERT_TRUE(guest.wait_holding(180s)) << guest.serial_tail();

    ShellProcess::Options o;
    o.libvirt_uri = guest.uri();
    ShellProcess shell(o);
    ASSERT_TRUE(shell.started()) << shell.log();
    ASSERT_TRUE(wait_until(
        [&] {
            shell.ctl({"show", spec.name});
            return shell.status_json().find(R"("scanout": {"width": 1280, "height": 800, "path": "map"})") !=
                   std::string::npos;
        },
        60s))
        << shell.status_json() << shell.log();

    // What the shell shows is QEMU's surface pixel for pixel (the guest draws no cursor).
    const std::string dump = shell.log_path() + ".guest.png";
    std::size_t differing = 0;
    bool compared = false;
    EXPECT_TRUE(wait_until(
        [&] {
            auto ours = shell.screenshot();
            auto r = shell.ctl({"screenshot", spec.name, dump});
            if (!ours || r.exit_code != 0)
                return false;
            std::ifstream f(dump, std::ios::binary);
            auto theirs = parse_image(std::string((std::istreambuf_iterator<char>(f)), {}));
            if (!theirs || theirs->width != ours->width || theirs->height != ours->height)
                return false;
            compared = true;
            differing = 0;
            for (std::size_t i = 0; i < ours->rgb.size(); ++i)
                differing += ours->rgb[i] != theirs->rgb[i];
            return differing == 0;
        },
        20s))
        << (compared ? "the shell's screen and QEMU's screendump differ in " + std::to_string(differing) + " bytes"
                     : "no screenshot pair of the same size");

    const auto stats = parse_guest_stats(shell.status_json(), spec.name);
    ASSERT_TRUE(stats.has_value()) << shell.status_json();
    EXPECT_EQ(stats->scanout_path, "map");
    EXPECT_EQ(stats->copies, 0u) << "the map path copies nothing";
    EXPECT_EQ(stats->bytes_copied, 0u);
    EXPECT_GT(stats->frames_presented, 0u);
}

} // namespace
} // namespace phyllome::test
