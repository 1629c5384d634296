// Outputs set by the wlr tools: the real wlr-randr (wlr-output-management) lists the shell's
// output, changes its mode, transform and scale, turns it off and on, and gets refusals for
// what cannot be; a shown guest is told the new size. DPMS (wlr-output-power-management) from
// a client in the test process. Everything checked from outside: grim, phyllomectl, the guest.
#include <gtest/gtest.h>

#include <regex>

#include "fake_display_session.hpp"
#include "output_power_client.hpp"

namespace phyllome::test {
namespace {

using namespace std::chrono_literals;
using guestview::testing::InputCall;

CommandResult randr(const ShellProcess& shell, const std::vector<std::string>& args) {
    std::vector<std::string> argv = {"wlr-randr"};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_command(argv, shell.client_env(), 10s);
}

// HEADLESS-1's object in status --json's "outputs", or "" when it is not there.
std::string output_json(const ShellProcess& shell, const std::string& name = "HEADLESS-1") {
    const std::string json = shell.status_json();
    const auto at = json.find("{\"name\": \"" + name + "\"");
    return at == std::string::npos ? "" : json.substr(at, json.find('}', at) - at + 1);
}

bool has(const std::string& text, const std::string& needle) { return text.find(needle) != std::string::npos; }

// The screen's size once grim sees `width`x`height`.
bool wait_screen_size(const ShellProcess& shell, int width, int height, std::optional<Image>& img) {
    return wait_until(
        [&] {
            img = shell.screenshot();
            return img && img->width == width && img->height == height;
        },
        10s);
}

std::string size_of(const std::optional<Image>& img) {
    return img ? std::to_string(img->width) + "x" + std::to_string(img->height) : "no screenshot";
}

TEST(OutputManagement, WlrRandrListsAndSetsModeTransformScaleAndPower) {
    if (!have_program("wlr-randr") || !have_program("grim"))
        GTEST_SKIP() << "wlr-randr or grim is not installed";
    ShellProcess shell({});
    ASSERT_TRUE(shell.started()) << shell.log();

    auto r = randr(shell, {});
    ASSERT_EQ(r.exit_code, 0) << r.err << shell.log();
    EXPECT_TRUE(has(r.out, "HEADLESS-1")) << r.out;
    EXPECT_TRUE(std::regex_search(r.out, std::regex(R"(1280x800 px(, [0-9.]+ Hz)? \(.*current)"))) << r.out;
    EXPECT_TRUE(has(r.out, "Enabled: yes")) << r.out;
    EXPECT_TRUE(has(r.out, "Position: 0,0")) << r.out;
    EXPECT_TRUE(has(r.out, "Transform: normal")) << r.out;
    EXPECT_TRUE(has(r.out, "Scale: 1.000000")) << r.out;

    // A new mode: the screen, the status and the next listing have it.
    r = randr(shell, {"--output", "HEADLESS-1", "--custom-mode", "1024x768"});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err << shell.log();
    std::optional<Image> img;
    EXPECT_TRUE(wait_screen_size(shell, 1024, 768, img)) << size_of(img);
    EXPECT_TRUE(has(output_json(shell), "\"width\": 1024, \"height\": 768")) << output_json(shell);
    r = randr(shell, {});
    EXPECT_TRUE(std::regex_search(r.out, std::regex(R"(1024x768 px(, [0-9.]+ Hz)? \(.*current)"))) << r.out;

    // Turned on its side: the screen is taller than wide.
    r = randr(shell, {"--output", "HEADLESS-1", "--transform", "90"});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err << shell.log();
    EXPECT_TRUE(wait_screen_size(shell, 768, 1024, img)) << size_of(img);
    EXPECT_TRUE(has(output_json(shell), "\"transform\": \"90\"")) << output_json(shell);
    EXPECT_TRUE(has(randr(shell, {}).out, "Transform: 90"));

    // Scale 2: the same pixels, half the layout size (the overlay's rows are laid out in it).
    r = randr(shell, {"--output", "HEADLESS-1", "--transform", "normal", "--scale", "2"});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err << shell.log();
    EXPECT_TRUE(wait_until([&] { return has(output_json(shell), "\"scale\": 2"); }, 5s)) << output_json(shell);
    EXPECT_TRUE(has(output_json(shell), "\"transform\": \"normal\"")) << output_json(shell);
    EXPECT_TRUE(wait_screen_size(shell, 1024, 768, img)) << size_of(img);
    std::optional<Rect> row = first_overlay_row(shell.status_json());
    ASSERT_TRUE(row) << shell.status_json();
    EXPECT_LE(row->x + row->width, 512) << "the overlay is not laid out at scale 2";

    // Off and on again.
    r = randr(shell, {"--output", "HEADLESS-1", "--off"});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err << shell.log();
    EXPECT_TRUE(has(output_json(shell), "\"enabled\": false")) << output_json(shell);
    EXPECT_TRUE(has(randr(shell, {}).out, "Enabled: no"));
    EXPECT_TRUE(shell.running());
    r = randr(shell, {"--output", "HEADLESS-1", "--on", "--scale", "1"});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err << shell.log();
    EXPECT_TRUE(has(output_json(shell), "\"enabled\": true")) << output_json(shell);
    EXPECT_TRUE(wait_until(
        [&] {
            img = shell.screenshot();
            return img && img->width == 1024 && img->height == 768 && img->pixel(512, 760) == 0x1b1d23;
        },
        10s))
        << "the overlay is not back: " << size_of(img);
    EXPECT_EQ(shell.stop(), 0) << shell.log();
}

TEST(OutputManagement, RequestsThatCannotBeFailCleanly) {
    if (!have_program("wlr-randr"))
        GTEST_SKIP() << "wlr-randr is not installed";
    ShellProcess shell({});
    ASSERT_TRUE(shell.started()) << shell.log();
    const std::string before = output_json(shell);
    ASSERT_TRUE(has(before, "\"width\": 1280, \"height\": 800")) << before;

    // No such output: wlr-randr says so itself.
    auto r = randr(shell, {"--output", "HDMI-A-1", "--custom-mode", "1024x768"});
    EXPECT_NE(r.exit_code, 0) << r.out << r.err;
    // Scale 0: wlroots answers with a protocol error, which ends wlr-randr's connection only
    // (wlr-randr prints it and still exits 0).
    r = randr(shell, {"--output", "HEADLESS-1", "--scale", "0"});
    EXPECT_TRUE(has(r.err, "invalid scale")) << r.exit_code << " " << r.out << r.err;
    // Larger than the shell draws: the shell answers "failed".
    r = randr(shell, {"--output", "HEADLESS-1", "--custom-mode", "9000x9000"});
    EXPECT_NE(r.exit_code, 0) << r.out << r.err;
    EXPECT_TRUE(has(shell.log(), "9000x9000 is larger than 8192 pixels a side")) << shell.log();

    // A test (kanshi's way, wlr-randr --dryrun) answers without changing anything.
    r = randr(shell, {"--output", "HEADLESS-1", "--custom-mode", "9000x9000", "--dryrun"});
    EXPECT_NE(r.exit_code, 0) << r.out << r.err;
    EXPECT_TRUE(has(shell.log(), "refused (test)")) << shell.log();
    r = randr(shell, {"--output", "HEADLESS-1", "--custom-mode", "640x480", "--transform", "180", "--dryrun"});
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;

    EXPECT_TRUE(shell.running()) << shell.log();
    EXPECT_EQ(output_json(shell), before);
    // And it still takes a good one.
    r = randr(shell, {"--output", "HEADLESS-1", "--custom-mode", "800x600"});
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err << shell.log();
    EXPECT_TRUE(has(output_json(shell), "\"width\": 800, \"height\": 600")) << output_json(shell);
    EXPECT_EQ(shell.stop(), 0) << shell.log();
}

TEST(OutputManagement, HeadsFollowOutputsComingAndGoing) {
    if (!have_program("wlr-randr"))
        GTEST_SKIP() << "wlr-randr is not installed";
    ShellProcess shell({});
    ASSERT_TRUE(shell.started()) << shell.log();
    ASSERT_EQ(shell.ctl({"output", "add", "640x480"}).exit_code, 0);
    CommandResult r;
    EXPECT_TRUE(wait_until(
        [&] {
            r = randr(shell, {});
            return std::regex_search(r.out, std::regex(R"(HEADLESS-2 [^]*640x480 px[^]*Position: 1280,0)"));
        },
        5s))
        << r.out;
    ASSERT_EQ(shell.ctl({"output", "remove", "HEADLESS-1"}).exit_code, 0);
    EXPECT_TRUE(wait_until(
        [&] {
            r = randr(shell, {});
            return r.exit_code == 0 && !has(r.out, "HEADLESS-1") && has(r.out, "HEADLESS-2");
        },
        5s))
        << r.out;
}

TEST(OutputManagement, ConfigTransformTurnsTheOutput) {
    if (!have_program("grim"))
        GTEST_SKIP() << "grim is not installed";
    ShellProcess::Options o;
    o.config_toml = "[output.HEADLESS-1]\nmode = \"1280x800\"\ntransform = \"270\"\n";
    ShellProcess shell(o);
    ASSERT_TRUE(shell.started()) << shell.log();
    std::optional<Image> img;
    EXPECT_TRUE(wait_screen_size(shell, 800, 1280, img)) << size_of(img);
    EXPECT_TRUE(has(output_json(shell), "\"width\": 1280, \"height\": 800")) << "the mode is not turned";
    EXPECT_TRUE(has(output_json(shell), "\"transform\": \"270\"")) << output_json(shell);
    EXPECT_TRUE(has(shell.ctl({"status"}).out, "scale 1 transform 270"));
}

// The size in the last SetUIInfo the guest received.
std::optional<std::pair<std::int64_t, std::int64_t>> last_ui_info(const std::vector<InputCall>& calls) {
    for (auto it = calls.rbegin(); it != calls.rend(); ++it)
        if (it->method == "Console.SetUIInfo" && it->args.size() == 6)
            return std::pair{it->args[4], it->args[5]};
    return std::nullopt;
}

TEST(OutputManagement, TheShownGuestIsToldTheNewSize) {
    if (!have_program("wlr-randr"))
        GTEST_SKIP() << "wlr-randr is not installed";
    FakeDisplaySession session({});
    ASSERT_TRUE(session.wait_attached(20s)) << session.shell().log();
    ShellProcess& shell = session.shell();
    using Size = std::pair<std::int64_t, std::int64_t>;
    ASSERT_TRUE(session.pump_until([&] { return last_ui_info(session.peer().input_calls()) == Size{1280, 800}; }, 5s));

    auto r = randr(shell, {"--output", "HEADLESS-1", "--custom-mode", "1024x768"});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err << shell.log();
    EXPECT_TRUE(session.pump_until([&] { return last_ui_info(session.peer().input_calls()) == Size{1024, 768}; }, 5s))
        << "no SetUIInfo with the new mode";

    // The guest (which has not resized) is placed on the turned screen: 1280x800 fits 768x480,
    // centred, with bars above and below.
    r = randr(shell, {"--output", "HEADLESS-1", "--transform", "90"});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err << shell.log();
    EXPECT_TRUE(session.pump_until([&] { return last_ui_info(session.peer().input_calls()) == Size{768, 1024}; }, 5s))
        << "no SetUIInfo with the turned size";
    constexpr int W = 1280, H = 800;
    constexpr unsigned teal = 0x208080;
    std::vector<std::uint8_t> pixels(std::size_t{W} * H * 4);
    for (std::size_t i = 0; i < pixels.size(); i += 4)
        put_xrgb(&pixels[i], teal);
    session.peer().scanout(0, W, H, W * 4, FakeDisplaySession::xrgb, pixels);
    std::optional<Image> img;
    EXPECT_TRUE(session.wait_screen(
        [](const Image& i) {
            return i.width == 768 && i.height == 1024 && i.pixel(384, 512) == teal && i.pixel(384, 100) == 0 &&
                   i.pixel(384, 1000) == 0;
        },
        10s, &img))
        << size_of(img) << (img ? " centre " + std::to_string(img->pixel(384, 512)) : "");
    EXPECT_EQ(session.stats()->shown_guest, FakeDisplaySession::guest);
}

TEST(OutputPower, ClientTurnsTheOutputOffAndOn) {
    if (!have_program("grim"))
        GTEST_SKIP() << "grim is not installed";
    ShellProcess shell({});
    ASSERT_TRUE(shell.started()) << shell.log();
    OutputPowerClient power(shell.wayland_socket(), "HEADLESS-1");
    ASSERT_TRUE(power.ok()) << "no zwlr_output_power_manager_v1, or no wl_output named HEADLESS-1";
    EXPECT_EQ(power.mode(), 1);

    power.set_mode(false);
    EXPECT_EQ(power.mode(), 0) << shell.log();
    const std::string off = output_json(shell);
    EXPECT_TRUE(has(off, "\"enabled\": false")) << off;
    EXPECT_TRUE(has(off, "\"width\": 1280, \"height\": 800, \"scale\": 1, \"x\": 0, \"y\": 0")) << "it kept its place: " << off;
    EXPECT_FALSE(shell.screenshot()) << "grim captured an output that is off";
    if (have_program("wlr-randr")) { // a layout tool still sees it placed, as in sway
        EXPECT_TRUE(has(randr(shell, {}).out, "Enabled: yes"));
    }

    power.set_mode(true);
    EXPECT_EQ(power.mode(), 1) << shell.log();
    EXPECT_TRUE(has(output_json(shell), "\"enabled\": true"));
    std::optional<Image> img;
    EXPECT_TRUE(wait_until(
        [&] {
            img = shell.screenshot();
            return img && img->width == 1280 && img->pixel(640, 790) == 0x1b1d23;
        },
        10s))
        << "the overlay is not back: " << size_of(img);
    EXPECT_FALSE(power.failed());
    EXPECT_TRUE(shell.running());
}

} // namespace
} // namespace phyllome::test
