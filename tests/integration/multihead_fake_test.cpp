// Multi-head with the fake QEMU peer (issue 16): a guest with two heads (virtio-gpu consoles
// of one device) on one, then three headless outputs. Head N shows on output N, every head is
// told its output's size (SetUIInfo per console) and a head with no output is told 0x0 (off);
// status says which guest and head each output shows; a head the guest turns off shows a message,
// not its last frame. The real-QEMU test is multihead_test.cpp.
#include <gtest/gtest.h>

#include <map>
#include <regex>

#include "fake_display_session.hpp"

namespace phyllome::test {
namespace {

using namespace std::chrono_literals;
using guestview::testing::FakeConsoleConfig;
using guestview::testing::InputCall;

constexpr unsigned teal = 0x208080, red = 0xc02020;
using Size = std::pair<std::int64_t, std::int64_t>;



// The size in the last SetUIInfo each console received.
std::map<std::uint32_t, Size> last_ui_info(const std::vector<InputCall>& calls) {
    std::map<std::uint32_t, Size> last;
    for (const auto& c : calls)
        if (c.method == "Console.SetUIInfo" && c.args.size() == 6)
            last[c.console] = {c.args[4], c.args[5]};
    return last;
}


FakeDisplaySession::Options two_heads() {
    FakeDisplaySession::Options o;
    FakeConsoleConfig head0, head1;
    head0.label = "virtio-gpu-pci";
    head1.label = "virtio-gpu-pci.1";
    head1.head = 1;
    o.consoles = {head0, head1};
    return o;
}

TEST(MultiHeadFake, EachHeadOnItsOutputToldItsSizeAndHeadsWithoutOutputToldOff) {
    if (!have_program("grim"))
        GTEST_SKIP() << "grim is not installed";
    FakeDisplaySession session(two_heads());
    ASSERT_TRUE(session.wait_attached(20s)) << session.shell().log();
    ShellProcess& shell = session.shell();
    auto& peer = session.peer();
    peer.scanout(0, 1280, 800, 1280 * 4, FakeDisplaySession::xrgb, solid_xrgb(1280, 800, teal));
    ASSERT_TRUE(session.wait_screen([](const Image& i) { return i.pixel(640, 400) == teal; }, 10s)) << shell.log();

    // One output: head 0 gets its size, head 1 is told it is off.
    EXPECT_TRUE(session.pump_until(
        [&] { return last_ui_info(peer.input_calls()) == std::map<std::uint32_t, Size>{{0, {1280, 800}}, {1, {0, 0}}}; },
        5s));
    EXPECT_EQ(output_heads(shell.status_json()), "HEADLESS-1=fake/0");
    auto r = shell.ctl({"screenshot", "fake", "/dev/null", "--head", "1"});
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.err.find("head 1 is not on any output"), std::string::npos) << r.err;
    r = shell.ctl({"screenshot", "--head", "2", "fake", "/dev/null"});
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.err.find("fake has no head 2 (its heads are 0 to 1)"), std::string::npos) << r.err;

    // Three outputs: head 1 on the second with that output's size, head 0 again on the third.
    ASSERT_EQ(shell.ctl({"output", "add", "1024x768"}).exit_code, 0);
    ASSERT_EQ(shell.ctl({"output", "add", "800x600"}).exit_code, 0);
    EXPECT_TRUE(session.pump_until(
        [&] { return last_ui_info(peer.input_calls()) == std::map<std::uint32_t, Size>{{0, {1280, 800}}, {1, {1024, 768}}}; },
        5s));
    EXPECT_EQ(output_heads(shell.status_json()), "HEADLESS-1=fake/0,HEADLESS-2=fake/1,HEADLESS-3=fake/0");
    peer.scanout(1, 1024, 768, 1024 * 4, FakeDisplaySession::xrgb, solid_xrgb(1024, 768, red));
    std::optional<Image> img;
    EXPECT_TRUE(session.pump_until(
        [&] {
            img = shell.screenshot_output("HEADLESS-2");
            return img && img->width == 1024 && img->pixel(512, 384) == red;
        },
        10s))
        << "head 1 is not on the second output";
    img = shell.screenshot_output("HEADLESS-3");
    ASSERT_TRUE(img);
    EXPECT_EQ(img->pixel(400, 300), teal) << "the third output does not show head 0";
    img = shell.screenshot_output("HEADLESS-1");
    ASSERT_TRUE(img);
    EXPECT_EQ(img->pixel(640, 400), teal);

    // The guest turns head 1 off: its output says so instead of keeping the last frame.
    peer.disable(1);
    EXPECT_TRUE(session.pump_until(
        [&] {
            img = shell.screenshot_output("HEADLESS-2");
            return img && img->pixel(512, 384) != red && img->pixel(10, 10) != red;
        },
        10s))
        << "head 1's last frame stayed on screen";

    // The second output goes: the third becomes output 2 and shows head 1 at its size.
    ASSERT_EQ(shell.ctl({"output", "remove", "HEADLESS-2"}).exit_code, 0);
    EXPECT_TRUE(session.pump_until(
        [&] { return last_ui_info(peer.input_calls()) == std::map<std::uint32_t, Size>{{0, {1280, 800}}, {1, {800, 600}}}; },
        5s));
    EXPECT_EQ(output_heads(shell.status_json()), "HEADLESS-1=fake/0,HEADLESS-3=fake/1");

    // Down to one output again: head 1 is told it is off once more.
    ASSERT_EQ(shell.ctl({"output", "remove", "HEADLESS-3"}).exit_code, 0);
    EXPECT_TRUE(session.pump_until(
        [&] { return last_ui_info(peer.input_calls()) == std::map<std::uint32_t, Size>{{0, {1280, 800}}, {1, {0, 0}}}; },
        5s));
    EXPECT_TRUE(shell.running()) << shell.log();

    // With the overlay in front, outputs show no guest.
    ASSERT_EQ(shell.ctl({"overlay"}).exit_code, 0);
    EXPECT_EQ(output_heads(shell.status_json()), "HEADLESS-1=-");
}

} // namespace
} // namespace phyllome::test
