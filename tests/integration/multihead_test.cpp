// Multi-head with a real guest (issue 16): the benchmark's Linux guest (scripts/build-bench-guest)
// with heads='2' runs heads_painter (phyllome_mode=heads), which paints a pattern of its own on
// every connected virtio-gpu connector at its preferred mode and reports hotplug on the serial
// console. The shell runs on two headless outputs of different sizes: each head must be told
// its output's size (SetUIInfo per head), each output's picture must equal QEMU's screendump of
// its head (`virsh screenshot --screen N`) pixel for pixel, status must say which head each
// output shows, and pulling out the second output must tell head 1 it is off (the guest sees
// Virtual-2 disconnected).
#include <gtest/gtest.h>

#include <unistd.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <iterator>
#include <regex>
#include <string>

#include "fake_display_session.hpp"
#include "shell_process.hpp"
#include "tests/bench/bench_guest.hpp"

namespace phyllome::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

std::optional<Image> read_image(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    return parse_image(std::string((std::istreambuf_iterator<char>(f)), {}));
}

// How many bytes differ; nullopt when the sizes differ.
std::optional<std::size_t> difference(const Image& a, const Image& b) {
    if (a.width != b.width || a.height != b.height)
        return std::nullopt;
    std::size_t differing = 0;
    for (std::size_t i = 0; i < a.rgb.size(); ++i)
        differing += a.rgb[i] != b.rgb[i];
    return differing;
}


TEST(MultiHead, ALinuxGuestsTwoHeadsOnTwoOutputsMatchQemusScreendumpsAndHeadOneGoesOffWithItsOutput) {
    if (access("/usr/bin/qemu-system-x86_64", X_OK) != 0)
        GTEST_SKIP() << "QEMU is not installed";
    if (!have_program("virsh") || !have_program("grim"))
        GTEST_SKIP() << "virsh or grim is not installed";
    const char* src = std::getenv("PHYLLOME_SOURCE_ROOT");
    ASSERT_NE(src, nullptr) << "run through meson test";
    const auto built = run_command({std::string(src) + "/scripts/build-bench-guest"}, {}, 900s);
    if (built.exit_code != 0)
        GTEST_SKIP() << "cannot assemble the test guest (Debian's kernel package is downloaded once): "
                     << built.err.substr(0, 400);

    const auto started = Clock::now();
    bench::BenchGuestSpec spec;
    spec.kernel_dir = built.out.substr(0, built.out.find('\n'));
    spec.embed_root = "/var/tmp/phyllome-multihead-embed-" + std::to_string(getuid());
    spec.name = "phyllome-multihead";
    spec.heads = 2;
    spec.mode = "heads";
    bench::BenchGuest guest(spec);
    const std::string error = guest.start();
    ASSERT_TRUE(error.empty()) << error;
    // Before any display client, QEMU enables head 0 only.
    ASSERT_TRUE(guest.wait_report("phyllome-guest: heads Virtual-1=connected 1280x800 Virtual-2=disconnected", 0, 180s))
        << guest.serial_tail();
    const double boot_s = seconds_since(started);

    ShellProcess::Options o;
    o.libvirt_uri = guest.uri();
    ShellProcess shell(o);
    ASSERT_TRUE(shell.started()) << shell.log();
    auto r = shell.ctl({"output", "add", "1024x768"});
    ASSERT_EQ(r.exit_code, 0) << r.err << shell.log();
    ASSERT_EQ(r.out, "added output HEADLESS-2 (1024x768)\n");
    const auto shown = Clock::now();
    ASSERT_TRUE(wait_until(
        [&] {
            shell.ctl({"show", spec.name});
            return output_heads(shell.status_json()) ==
                   "HEADLESS-1=" + spec.name + "/0,HEADLESS-2=" + spec.name + "/1";
        },
        60s))
        << shell.status_json() << shell.log();
    // Head 1 is told the second output's size: the guest turns Virtual-2 on at 1024x768.
    ASSERT_TRUE(guest.wait_report("Virtual-1=connected 1280x800 Virtual-2=connected 1024x768", 0, 60s))
        << guest.serial_tail() << shell.log();
    const double heads_on_s = seconds_since(shown);

    // Each output shows its head exactly as QEMU's screendump of that head (the guest draws no
    // cursor; its buffers are XRGB8888, which both sides turn into the same 8-bit RGB). The
    // screendump is libvirt's virDomainScreenshot with screen N, what `virsh screenshot --screen
    // N` calls, taken through the shell (`phyllomectl screenshot --head N`): an embedded libvirt's
    // root serves one process at a time, and the shell's agent holds it.
    for (int head = 0; head < 2; ++head) {
        const std::string output = "HEADLESS-" + std::to_string(head + 1);
        const std::string dump = shell.log_path() + ".head" + std::to_string(head) + ".png";
        std::optional<std::size_t> differing;
        int width = 0;
        EXPECT_TRUE(wait_until(
            [&] {
                auto ours = run_command({"grim", "-o", output, "-t", "ppm", "-"}, shell.client_env());
                auto theirs = shell.ctl({"screenshot", spec.name, dump, "--head", std::to_string(head)});
                auto a = ours.exit_code == 0 ? parse_ppm(ours.out) : std::nullopt;
                auto b = theirs.exit_code == 0 ? read_image(dump) : std::nullopt;
                width = b ? b->width : 0;
                differing = a && b ? difference(*a, *b) : std::nullopt;
                return differing == std::size_t{0};
            },
            30s))
            << output << ": " << (differing ? std::to_string(*differing) + " bytes differ" : "no screenshot pair of one size");
        EXPECT_EQ(width, head == 0 ? 1280 : 1024) << "head " << head << " is not at its output's size";
    }

    // Pulling out the second output tells head 1 it is off: the guest sees Virtual-2 go.
    const auto mark = guest.serial_mark();
    const std::string dump_after = shell.log_path() + ".replug-head1.png";
    const std::uint64_t frames_before = parse_guest_stats(shell.status_json(), spec.name).value_or(GuestStats{}).frames;
    const auto pulled = Clock::now();
    r = shell.ctl({"output", "remove", "HEADLESS-2"});
    ASSERT_EQ(r.exit_code, 0) << r.err << shell.log();
    EXPECT_TRUE(guest.wait_report("Virtual-1=connected 1280x800 Virtual-2=disconnected", mark, 60s))
        << guest.serial_tail() << shell.log();
    const double off_s = seconds_since(pulled);
    EXPECT_EQ(output_heads(shell.status_json()), "HEADLESS-1=" + spec.name + "/0");
    // QEMU (8.1+) replaces a scanout the guest turns off with its "Display output is not active"
    // placeholder and sends it whole: the head never keeps its last frame.
    std::uint64_t frames_after = frames_before;
    EXPECT_TRUE(wait_until(
        [&] {
            frames_after = parse_guest_stats(shell.status_json(), spec.name).value_or(GuestStats{}).frames;
            return frames_after > frames_before;
        },
        10s))
        << "no frame came for the head the guest turned off";

    // Plugged in again, the output brings head 1 back, at its own size.
    r = shell.ctl({"output", "add", "800x600"});
    ASSERT_EQ(r.exit_code, 0) << r.err << shell.log();
    EXPECT_TRUE(guest.wait_report("Virtual-1=connected 1280x800 Virtual-2=connected 800x600", mark, 60s))
        << guest.serial_tail() << shell.log();
    const std::string output = r.out.substr(r.out.find("HEADLESS-"), std::string("HEADLESS-3").size());
    EXPECT_EQ(output_heads(shell.status_json()), "HEADLESS-1=" + spec.name + "/0," + output + "=" + spec.name + "/1");
    std::optional<std::size_t> differing;
    EXPECT_TRUE(wait_until(
        [&] {
            auto ours = run_command({"grim", "-o", output, "-t", "ppm", "-"}, shell.client_env());
            auto theirs = shell.ctl({"screenshot", spec.name, dump_after, "--head", "1"});
            auto a = ours.exit_code == 0 ? parse_ppm(ours.out) : std::nullopt;
            auto b = theirs.exit_code == 0 ? read_image(dump_after) : std::nullopt;
            differing = a && b && a->width == 800 ? difference(*a, *b) : std::nullopt;
            return differing == std::size_t{0};
        },
        30s))
        << output << " after the replug: " << (differing ? std::to_string(*differing) + " bytes differ" : "no 800x600 pair");
    EXPECT_TRUE(shell.running()) << shell.log();
    std::cout << "multihead: head 1 off: " << frames_after - frames_before << " frame(s) from QEMU; boot to heads "
              << "report " << boot_s << " s, show to both heads on " << heads_on_s << " s, output pulled to head 1 "
              << "off " << off_s << " s, whole test " << seconds_since(started) << " s\n";
}

} // namespace
} // namespace phyllome::test
