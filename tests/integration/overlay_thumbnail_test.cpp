// The overlay shows the guests, not only their names (issue 16): a running guest's row carries a
// live thumbnail of its screen, scaled by the renderer from the frame the shell holds, refreshed
// a few times a second while the overlay is up and not at all while it is not. The guest is the
// benchmark's Linux guest animating its whole screen at a low rate under real QEMU.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdlib>
#include <regex>
#include <string>

#include "linux_test_guest.hpp"
#include "shell_process.hpp"
#include "tests/bench/bench_guest.hpp"

namespace phyllome::test {
namespace {

using namespace std::chrono_literals;

std::optional<Rect> thumbnail_of(const std::string& json, const std::string& guest) {
    static const std::regex re(
        R"re(\{"guest": "([^"]*)", "x": (\d+), "y": (\d+), "width": (\d+), "height": (\d+)\})re");
    for (auto it = std::sregex_iterator(json.begin(), json.end(), re); it != std::sregex_iterator(); ++it)
        if ((*it)[1] == guest)
            return Rect{std::stoi((*it)[2]), std::stoi((*it)[3]), std::stoi((*it)[4]), std::stoi((*it)[5])};
    return std::nullopt;
}

std::uint64_t number_after(const std::string& json, const std::string& key) {
    const auto at = json.find("\"" + key + "\": ");
    return at == std::string::npos ? 0 : std::strtoull(json.c_str() + at + key.size() + 4, nullptr, 10);
}

// The pixels of `r` in `img`, row by row.
std::vector<unsigned> pixels(const Image& img, const Rect& r) {
    std::vector<unsigned> out;
    for (int y = r.y; y < r.y + r.height; ++y)
        for (int x = r.x; x < r.x + r.width; ++x)
            out.push_back(img.pixel(x, y));
    return out;
}

std::size_t distinct(std::vector<unsigned> v) {
    std::sort(v.begin(), v.end());
    return static_cast<std::size_t>(std::unique(v.begin(), v.end()) - v.begin());
}

TEST(OverlayThumbnail, ARunningGuestsRowShowsItsLiveScreenOnlyWhileTheOverlayIsUp) {
    bench::BenchGuestSpec spec;
    if (const std::string why = linux_test_guest_missing(spec.kernel_dir, {"virsh", "wtype", "grim"}); !why.empty())
        GTEST_SKIP() << why;
    spec.embed_root = "/var/tmp/phyllome-thumbnail-embed-" + std::to_string(getuid());
    spec.name = "phyllome-thumbnail";
    spec.fps = 5; // every frame differs everywhere; slow enough for TCG and for the screenshots
    bench::BenchGuest guest(spec);
    const std::string error = guest.start();
    ASSERT_TRUE(error.empty()) << error;
    ASSERT_TRUE(guest.wait_booted(180s)) << guest.serial_tail();

    ShellProcess::Options o;
    o.libvirt_uri = guest.uri();
    o.config_toml += "[security]\nallow_virtual_input = true\n";
    ShellProcess shell(o);
    ASSERT_TRUE(shell.started()) << shell.log();
    ASSERT_TRUE(wait_until(
        [&] {
            const std::string s = shell.status_json();
            return s.find(R"("display": "connected")") != std::string::npos &&
                   s.find(R"("scanout": {"width": 1280)") != std::string::npos;
        },
        60s))
        << shell.status_json() << shell.log();

    // The overlay: the guest's row holds its screen.
    ASSERT_EQ(shell.wtype({"-P", "Control_R", "-k", "Home", "-p", "Control_R"}).exit_code, 0);
    ASSERT_TRUE(shell.wait_for_status(R"("thumbnails_shown": 1)", 10s)) << shell.status_json();
    const std::string json = shell.status_json();
    ASSERT_NE(json.find(R"("view": "overlay")"), std::string::npos) << json;
    const auto place = thumbnail_of(json, spec.name);
    ASSERT_TRUE(place) << json;
    EXPECT_GE(place->width, 64);
    // 1280x800 fitted into the place keeps its 16:10 shape.
    EXPECT_NEAR(static_cast<double>(place->width) / place->height, 1.6, 0.05);

    // Live: the thumbnail changes with the guest's screen while the rest of the row stays.
    const Rect beside{place->x + place->width + 4, place->y, 40, place->height};
    auto first = shell.screenshot();
    ASSERT_TRUE(first);
    EXPECT_GT(distinct(pixels(*first, *place)), 8u) << "the thumbnail shows no picture, only a plain box";
    bool changed = false;
    EXPECT_TRUE(wait_until(
        [&] {
            auto now = shell.screenshot();
            if (!now)
                return false;
            EXPECT_EQ(pixels(*now, beside), pixels(*first, beside)) << "the row around the thumbnail was redrawn";
            changed = pixels(*now, *place) != pixels(*first, *place);
            return changed;
        },
        10s))
        << "the thumbnail did not follow the guest's screen";

    // A few refreshes a second, however fast the guest draws.
    const std::uint64_t r0 = number_after(shell.status_json(), "thumbnail_refreshes");
    const auto t0 = std::chrono::steady_clock::now();
    ASSERT_TRUE(wait_until([&] { return std::chrono::steady_clock::now() - t0 > 2s; }, 3s));
    const std::uint64_t r1 = number_after(shell.status_json(), "thumbnail_refreshes");
    EXPECT_GT(r1, r0) << "no refresh in 2 s";
    EXPECT_LE(r1 - r0, 2000 / 250 + 2u) << "refreshed more often than every 250 ms";

    // Behind the guest: no thumbnail, no refresh, while the guest keeps drawing.
    ASSERT_EQ(shell.wtype({"-P", "Control_R", "-k", "1", "-p", "Control_R"}).exit_code, 0);
    ASSERT_TRUE(shell.wait_for_status(R"("view": "guest")", 10s)) << shell.status_json();
    ASSERT_TRUE(shell.wait_for_status(R"("thumbnails_shown": 0)", 5s)) << shell.status_json();
    const std::uint64_t hidden0 = number_after(shell.status_json(), "thumbnail_refreshes");
    const std::uint64_t frames0 = number_after(shell.status_json(), "frames");
    EXPECT_TRUE(wait_until([&] { return number_after(shell.status_json(), "frames") > frames0 + 3; }, 10s))
        << "the guest stopped drawing";
    EXPECT_EQ(number_after(shell.status_json(), "thumbnail_refreshes"), hidden0)
        << "thumbnails were refreshed while the overlay was hidden";
}

} // namespace
} // namespace phyllome::test
