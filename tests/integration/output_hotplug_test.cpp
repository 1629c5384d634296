// Outputs plugged in and pulled out (headless backend, phyllomectl output add/remove) while a
// guest is shown: the shell keeps running, keeps the guest on screen on whatever outputs are
// left, tells the guest the size it is shown at (SetUIInfo), and starts again from no output.
#include <gtest/gtest.h>

#include <algorithm>
#include <regex>
#include <sstream>

#include "fake_display_session.hpp"

namespace phyllome::test {
namespace {

using namespace std::chrono_literals;
using guestview::testing::InputCall;

constexpr int W = 1280, H = 800;
constexpr unsigned teal = 0x208080;



std::string describe(const std::optional<Image>& img, std::initializer_list<std::pair<int, int>> points) {
    if (!img)
        return "no screenshot";
    std::ostringstream out;
    out << img->width << "x" << img->height;
    for (auto [x, y] : points)
        if (x < img->width && y < img->height)
            out << " (" << x << "," << y << ")=" << std::hex << img->pixel(x, y) << std::dec;
    return out.str();
}

struct OutputStatus {
    std::string name;
    int width = 0, height = 0;
};
std::vector<OutputStatus> outputs_of(const std::string& json) {
    std::vector<OutputStatus> out;
    const auto at = json.find("\"outputs\": [");
    if (at == std::string::npos)
        return out;
    const auto end = json.find(']', at);
    static const std::regex re(R"re(\{"name": "([^"]+)", "width": (\d+), "height": (\d+))re");
    const std::string list = json.substr(at, end - at);
    for (auto it = std::sregex_iterator(list.begin(), list.end(), re); it != std::sregex_iterator(); ++it)
        out.push_back({(*it)[1], std::stoi((*it)[2]), std::stoi((*it)[3])});
    return out;
}

std::string names(const std::vector<OutputStatus>& outputs) {
    std::string s;
    for (const auto& o : outputs)
        s += (s.empty() ? "" : ",") + o.name + "=" + std::to_string(o.width) + "x" + std::to_string(o.height);
    return s;
}

// The size in the last SetUIInfo the guest received.
std::optional<std::pair<std::int64_t, std::int64_t>> last_ui_info(const std::vector<InputCall>& calls) {
    for (auto it = calls.rbegin(); it != calls.rend(); ++it)
        if (it->method == "Console.SetUIInfo" && it->args.size() == 6)
            return std::pair{it->args[4], it->args[5]};
    return std::nullopt;
}

TEST(OutputHotplug, GuestStaysShownWhileOutputsComeAndGo) {
    if (!have_program("grim"))
        GTEST_SKIP() << "grim is not installed";
    FakeDisplaySession::Options o;
    o.extra_config = "[identity]\nedge = true\n"; // and the banner, on by default
    FakeDisplaySession session(o);
    ASSERT_TRUE(session.wait_attached(20s)) << session.shell().log();
    ShellProcess& shell = session.shell();
    session.peer().scanout(0, W, H, W * 4, FakeDisplaySession::xrgb, solid_xrgb(W, H, teal));
    ASSERT_TRUE(session.wait_screen([](const Image& i) { return i.pixel(W / 2, H / 2) == teal; }, 10s))
        << shell.log();
    std::optional<Image> img = shell.screenshot_output("HEADLESS-1");
    ASSERT_TRUE(img);
    const unsigned edge = img->pixel(0, H / 2);
    ASSERT_NE(edge, teal) << "no identity edge to follow the outputs with";
    ASSERT_TRUE(session.pump_until([&] { return last_ui_info(session.peer().input_calls()) == std::pair<std::int64_t, std::int64_t>{W, H}; }, 5s));

    // Plug in a 1024x768 output: two outputs, the guest still shown, its head mirrored there
    // letterboxed (1280x800 -> 1024x640, 64 px bars), and the edge drawn on it too.
    auto r = shell.ctl({"output", "add", "1024x768"});
    ASSERT_EQ(r.exit_code, 0) << r.err << shell.log();
    EXPECT_EQ(r.out, "added output HEADLESS-2 (1024x768)\n");
    auto outs = outputs_of(shell.status_json());
    EXPECT_EQ(names(outs), "HEADLESS-1=1280x800,HEADLESS-2=1024x768");
    EXPECT_EQ(session.stats()->shown_guest, FakeDisplaySession::guest);
    EXPECT_TRUE(session.pump_until(
        [&] {
            img = shell.screenshot_output("HEADLESS-2");
            return img && img->width == 1024 && img->height == 768 && img->pixel(512, 384) == teal &&
                   img->pixel(512, 32) == 0x000000 && img->pixel(0, 384) == edge;
        },
        10s))
        << "HEADLESS-2: " << describe(img, {{512, 384}, {512, 32}, {0, 384}}) << "; edge " << std::hex << edge;
    img = shell.screenshot_output("HEADLESS-1");
    ASSERT_TRUE(img);
    EXPECT_EQ(img->pixel(W / 2, H / 2), teal) << "the first output lost the guest";

    // Pull out the first output while the guest is on it, and while the banner a switch puts up
    // is on both: the guest stays on the one left, and learns its new size.
    ASSERT_EQ(shell.ctl({"overlay"}).exit_code, 0);
    ASSERT_EQ(shell.ctl({"show", FakeDisplaySession::guest}).exit_code, 0);
    r = shell.ctl({"output", "remove", "HEADLESS-1"});
    ASSERT_EQ(r.exit_code, 0) << r.err << shell.log();
    EXPECT_TRUE(shell.running()) << shell.log();
    EXPECT_EQ(names(outputs_of(shell.status_json())), "HEADLESS-2=1024x768");
    EXPECT_EQ(session.stats()->shown_guest, FakeDisplaySession::guest);
    EXPECT_TRUE(session.pump_until(
        [&] { return last_ui_info(session.peer().input_calls()) == std::pair<std::int64_t, std::int64_t>{1024, 768}; }, 5s))
        << "no SetUIInfo with the size of the output left";
    EXPECT_TRUE(session.pump_until(
        [&] {
            img = shell.screenshot();
            return img && img->width == 1024 && img->height == 768 && img->pixel(512, 384) == teal &&
                   img->pixel(0, 384) == edge;
        },
        10s))
        << "after the removal the screen is " << (img ? std::to_string(img->width) + "x" + std::to_string(img->height) : "unreadable");

    // Frames keep coming and keep being shown.
    session.peer().update(0, 0, 0, 64, 64, 64 * 4, FakeDisplaySession::xrgb, solid_xrgb(64, 64, 0xff0000));
    EXPECT_TRUE(session.wait_stats([](const GuestStats& s) { return s.frames >= 2; }, 5s));

    // Pull out the last one: nothing to show on, still alive and answering.
    r = shell.ctl({"output", "remove", "HEADLESS-2"});
    ASSERT_EQ(r.exit_code, 0) << r.err << shell.log();
    EXPECT_TRUE(shell.running()) << shell.log();
    EXPECT_TRUE(outputs_of(shell.status_json()).empty()) << shell.status_json();
    session.peer().update(0, 0, 0, 64, 64, 64 * 4, FakeDisplaySession::xrgb, solid_xrgb(64, 64, teal));
    EXPECT_TRUE(session.wait_stats([](const GuestStats& s) { return s.frames >= 3; }, 5s))
        << "frames are not taken without an output";
    EXPECT_EQ(shell.ctl({"next"}).exit_code, 0);
    EXPECT_EQ(shell.ctl({"overlay"}).exit_code, 0);
    EXPECT_EQ(shell.ctl({"show", FakeDisplaySession::guest}).exit_code, 0);

    // Plug one back: the guest is on screen again at the new size.
    r = shell.ctl({"output", "add", "800x600"});
    ASSERT_EQ(r.exit_code, 0) << r.err << shell.log();
    EXPECT_EQ(names(outputs_of(shell.status_json())), "HEADLESS-3=800x600");
    EXPECT_TRUE(session.pump_until(
        [&] {
            img = shell.screenshot();
            return img && img->width == 800 && img->height == 600 && img->pixel(400, 300) == teal;
        },
        10s))
        << "the guest is not back on the new output";
    EXPECT_TRUE(session.pump_until(
        [&] { return last_ui_info(session.peer().input_calls()) == std::pair<std::int64_t, std::int64_t>{800, 600}; }, 5s));
    EXPECT_EQ(session.stats()->shown_guest, FakeDisplaySession::guest);
    EXPECT_TRUE(shell.running());
    EXPECT_EQ(shell.stop(), 0) << shell.log();
}

TEST(OutputHotplug, BadRequestsAreAnsweredAndChangeNothing) {
    ShellProcess shell({});
    ASSERT_TRUE(shell.started()) << shell.log();
    auto r = shell.ctl({"output", "remove", "HDMI-A-1"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(r.err, "there is no output named 'HDMI-A-1' (outputs: HEADLESS-1)\n");
    r = shell.ctl({"output", "add", "9000x9000"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("1 to 8192 pixels a side"), std::string::npos) << r.err;
    r = shell.ctl({"output", "add", "big"});
    EXPECT_EQ(r.exit_code, 2) << "phyllomectl checks the size itself";
    EXPECT_NE(r.err.find("a size like 1280x800"), std::string::npos) << r.err;
    EXPECT_EQ(names(outputs_of(shell.status_json())), "HEADLESS-1=1280x800");

    // The overlay goes on a new output too.
    r = shell.ctl({"output", "add", "640x480"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    std::optional<Image> img;
    EXPECT_TRUE(wait_until(
        [&] {
            img = shell.screenshot_output("HEADLESS-2");
            return img && img->width == 640 && img->pixel(320, 470) == 0x1b1d23; // the overlay's background
        },
        10s))
        << "the new output does not show the overlay";
    EXPECT_TRUE(shell.running());
}

TEST(OutputHotplug, AnOutputDisabledByTheConfigSurvivesOthersComingAndGoing) {
    // Outside the layout, it has no scene output: the layout helper destroys any a layout change
    // finds for an output it does not hold (the shell once kept a pointer to one).
    ShellProcess::Options o;
    o.config_toml = "[output.HEADLESS-1]\nenabled = false\n";
    ShellProcess shell(o);
    ASSERT_TRUE(shell.started()) << shell.log();
    auto r = shell.ctl({"output", "add", "800x600"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    std::optional<Image> img;
    EXPECT_TRUE(wait_until(
        [&] {
            img = shell.screenshot_output("HEADLESS-2");
            return img && img->width == 800 && img->pixel(400, 590) == 0x1b1d23; // the overlay
        },
        10s))
        << describe(img, {{400, 590}});
    r = shell.ctl({"output", "add", "640x480"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    r = shell.ctl({"output", "remove", "HEADLESS-2"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    r = shell.ctl({"output", "remove", "HEADLESS-1"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(wait_until(
        [&] {
            img = shell.screenshot_output("HEADLESS-3");
            return img && img->width == 640 && img->pixel(320, 470) == 0x1b1d23;
        },
        10s))
        << describe(img, {{320, 470}});
    EXPECT_TRUE(shell.running()) << shell.log();
    EXPECT_EQ(shell.stop(), 0) << shell.log();
}

TEST(OutputHotplug, OnlyTheHeadlessBackendTakesOutputRequests) {
    // A shell nested in another one runs on wlroots' Wayland backend: its output is a window.
    ShellProcess parent({});
    ASSERT_TRUE(parent.started()) << parent.log();
    ShellProcess::Options o;
    o.parent_wayland_socket = parent.wayland_socket();
    o.config_toml = "";
    ShellProcess nested(o);
    ASSERT_TRUE(nested.started()) << nested.log();
    auto r = nested.ctl({"output", "add", "800x600"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(r.err, "outputs can be added only on the headless backend (WLR_BACKENDS=headless)\n");
    r = nested.ctl({"output", "remove", "WL-1"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(r.err, "outputs can be removed only on the headless backend (WLR_BACKENDS=headless)\n");
    EXPECT_EQ(names(outputs_of(nested.status_json())).substr(0, 5), "WL-1=") << nested.status_json();
    EXPECT_TRUE(nested.running());
    EXPECT_TRUE(parent.running());
}

} // namespace
} // namespace phyllome::test
