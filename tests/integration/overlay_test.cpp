// The real shell on the headless backend, with libvirt's test driver: what the overlay lists,
// what it draws, and what phyllomectl and the keyboard do.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <signal.h>

#include "shell_process.hpp"

namespace phyllome::test {
namespace {

using namespace std::chrono_literals;

// Count of pixels in `r` that differ from the background by more than a small tolerance.
int painted_pixels(const Image& img, const Rect& r) {
    int n = 0;
    for (int y = r.y; y < r.y + r.height && y < img.height; ++y)
        for (int x = r.x; x < r.x + r.width && x < img.width; ++x) {
            unsigned p = img.pixel(x, y);
            int dr = static_cast<int>((p >> 16) & 0xff) - 0x1b, dg = static_cast<int>((p >> 8) & 0xff) - 0x1d,
                db = static_cast<int>(p & 0xff) - 0x23;
            if (std::abs(dr) + std::abs(dg) + std::abs(db) > 24)
                ++n;
        }
    return n;
}

// Pixels in `r` whose red channel dominates: the error colour used for failures.
int reddish_pixels(const Image& img, const Rect& r) {
    int n = 0;
    for (int y = r.y; y < r.y + r.height && y < img.height; ++y)
        for (int x = r.x; x < r.x + r.width && x < img.width; ++x) {
            unsigned p = img.pixel(x, y);
            int red = (p >> 16) & 0xff, green = (p >> 8) & 0xff, blue = p & 0xff;
            if (red > 150 && red > green + 60 && red > blue + 60)
                ++n;
        }
    return n;
}

std::string two_guest_driver_xml(const std::string& dir) {
    const std::string path = dir + "/guests.xml";
    std::ofstream(path) << R"(<node>
  <domain type='test'>
    <name>alpha</name>
    <memory>65536</memory>
    <os><type>hvm</type></os>
    <devices><graphics type='dbus' p2p='yes'/></devices>
  </domain>
  <domain type='test' xmlns:test='http://libvirt.org/schemas/domain/test/1.0'>
    <name>bravo</name>
    <memory>65536</memory>
    <os><type>hvm</type></os>
    <devices><graphics type='spice'/></devices>
    <test:runstate>5</test:runstate>
  </domain>
</node>
)";
    return path;
}

TEST(Shell, StatusListsTheTestDriverGuestAndTheConfiguredOutput) {
    ShellProcess shell({});
    ASSERT_TRUE(shell.started()) << shell.log();
    const std::string json = shell.status_json();
    EXPECT_NE(json.find(R"("view": "overlay")"), std::string::npos) << json;
    EXPECT_NE(json.find(R"("name": "test", "state": "running")"), std::string::npos) << json;
    EXPECT_NE(json.find(R"({"name": "HEADLESS-1", "width": 1280, "height": 800)"), std::string::npos) << json;
    EXPECT_NE(json.find(R"("display": "none")"), std::string::npos) << json;

    auto table = shell.ctl({"status"});
    EXPECT_EQ(table.exit_code, 0);
    EXPECT_NE(table.out.find("test"), std::string::npos);
    EXPECT_NE(table.out.find("running"), std::string::npos);
    EXPECT_EQ(shell.stop(), 0) << shell.log();
}

// libvirt and its libraries (TLS, Kerberos, curl, ...) are mapped in the agent, not in the shell.
TEST(Shell, LibvirtLivesInTheAgentProcessNotInTheShell) {
    ShellProcess shell({});
    ASSERT_TRUE(shell.started()) << shell.log();
    const std::string json = shell.status_json();
    const auto at = json.find(R"("agent_pid": )");
    ASSERT_NE(at, std::string::npos) << json;
    const int agent = std::atoi(json.c_str() + at + 13);
    ASSERT_GT(agent, 0) << json;
    EXPECT_EQ(json.find(R"("agent_rss_kb": 0)"), std::string::npos) << json;
    const auto slurp = [](const std::string& path) {
        std::ifstream f(path);
        return std::string((std::istreambuf_iterator<char>(f)), {});
    };
    EXPECT_NE(slurp("/proc/" + std::to_string(agent) + "/maps").find("/libvirt.so"), std::string::npos);
    const std::string agent_status = slurp("/proc/" + std::to_string(agent) + "/status");
    const auto ppid_at = agent_status.find("PPid:");
    ASSERT_NE(ppid_at, std::string::npos);
    const int shell_pid = std::atoi(agent_status.c_str() + ppid_at + 5);
    const std::string shell_maps = slurp("/proc/" + std::to_string(shell_pid) + "/maps");
    ASSERT_NE(shell_maps.find("phyllome-shell"), std::string::npos) << "the agent's parent is the shell";
#if defined(__SANITIZE_ADDRESS__)
    GTEST_SKIP() << "sanitized shells link libvirt for --check (guestview/meson.build)";
#endif
    for (const char* library : {"/libvirt", "/libcrypto", "/libgnutls", "/libkrb5", "/libcurl"})
        EXPECT_EQ(shell_maps.find(library), std::string::npos) << library << " is mapped in the shell";
}

TEST(Shell, OverlayScreenshotShowsTheGuestRow) {
    if (!have_program("grim"))
        GTEST_SKIP() << "grim is not installed";
    ShellProcess shell({});
    ASSERT_TRUE(shell.started()) << shell.log();
    auto row = first_overlay_row(shell.status_json());
    ASSERT_TRUE(row.has_value()) << shell.status_json();

    std::optional<Image> img;
    // The first frame may still be on its way when the socket answers.
    ASSERT_TRUE(wait_until([&] { img = shell.screenshot(); return img && painted_pixels(*img, *row) > 500; }, 10s));
    EXPECT_EQ(img->width, 1280);
    EXPECT_EQ(img->height, 800);
    // The row is drawn (card, text and buttons) while the space under the list stays empty.
    const int row_area = row->width * row->height;
    EXPECT_GT(painted_pixels(*img, *row), row_area / 2) << "the selected row's card should fill its rectangle";
    Rect below{row->x, row->y + row->height + 120, row->width, 100};
    EXPECT_EQ(painted_pixels(*img, below), 0);
    // Some of the row is bright text (the guest's name).
    int bright = 0;
    for (int y = row->y; y < row->y + row->height; ++y)
        for (int x = row->x; x < row->x + row->width / 3; ++x)
            if ((img->pixel(x, y) & 0xff) > 0xc0 && ((img->pixel(x, y) >> 16) & 0xff) > 0xc0)
                ++bright;
    EXPECT_GT(bright, 50);
}

TEST(Shell, PhyllomectlStartsShutsDownAndForcesOffAGuest) {
    ShellProcess shell({});
    ASSERT_TRUE(shell.started()) << shell.log();

    auto r = shell.ctl({"shutdown", "test"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(shell.wait_for_status(R"("name": "test", "state": "shut off")", 10s)) << shell.status_json();

    r = shell.ctl({"start", "test"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(shell.wait_for_status(R"("name": "test", "state": "running")", 10s)) << shell.status_json();

    r = shell.ctl({"destroy", "test"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(shell.wait_for_status(R"("name": "test", "state": "shut off")", 10s)) << shell.status_json();

    r = shell.ctl({"start", "no-such-guest"});
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.err.find("no-such-guest"), std::string::npos) << r.err;

    r = shell.ctl({"frobnicate"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("unknown command"), std::string::npos) << r.err;
}

TEST(Shell, BrokenConfigStartsOnDefaultsAndSaysWhy) {
    ShellProcess::Options o;
    o.config_toml = "[keyboard]\nrepeat_rate = \"fast\"\n[output.HEADLESS-1]\nmode = \"1280x800\"\n";
    ShellProcess shell(o);
    ASSERT_TRUE(shell.started()) << shell.log();
    const std::string json = shell.status_json();
    EXPECT_NE(json.find("keyboard.repeat_rate"), std::string::npos) << json;
    EXPECT_NE(json.find(":2:"), std::string::npos) << "the problem names its line: " << json;
    // The rest of the file still applies.
    EXPECT_NE(json.find(R"("width": 1280, "height": 800)"), std::string::npos) << json;
    EXPECT_NE(shell.log().find("keyboard.repeat_rate"), std::string::npos);

    ShellProcess::Options syntax;
    syntax.config_toml = "[output.HEADLESS-1\nmode = \n";
    ShellProcess shell2(syntax);
    ASSERT_TRUE(shell2.started()) << shell2.log();
    EXPECT_NE(shell2.status_json().find("not valid TOML"), std::string::npos) << shell2.status_json();
}

TEST(Shell, UnreachableLibvirtIsShownAndRetried) {
    ShellProcess::Options o;
    o.libvirt_uri = "qemu+unix:///system?socket=/nonexistent/libvirt-sock";
    ShellProcess shell(o);
    ASSERT_TRUE(shell.started()) << shell.log();
    ASSERT_TRUE(shell.wait_for_status(R"("state": "failed")", 10s)) << shell.status_json();
    const std::string json = shell.status_json();
    EXPECT_NE(json.find("/nonexistent/libvirt-sock"), std::string::npos) << json;
    EXPECT_EQ(json.find(R"("error": null)"), std::string::npos) << "the error must be reported: " << json;
    // A later attempt happens on its own (the backoff counter moves on).
    EXPECT_TRUE(shell.wait_for_status(R"("retry_in_ms": 2000)", 5s) || shell.wait_for_status(R"("retry_in_ms": 4000)", 5s))
        << shell.status_json();

    if (have_program("grim")) {
        std::optional<Image> img;
        ASSERT_TRUE(wait_until([&] { img = shell.screenshot(); return img.has_value(); }, 10s));
        EXPECT_GT(reddish_pixels(*img, Rect{0, 0, img->width, img->height / 3}), 200)
            << "the overlay shows the failure in the error colour";
    }
    EXPECT_TRUE(shell.running());
}

TEST(Shell, KeyboardNavigatesTheOverlayAndActsOnTheSelectedGuest) {
    if (!have_program("wtype"))
        GTEST_SKIP() << "wtype is not installed";
    char tmpl[] = "/tmp/phyllome-drv-XXXXXX";
    const std::string dir = mkdtemp(tmpl);
    ShellProcess::Options o;
    o.libvirt_uri = "test://" + two_guest_driver_xml(dir);
    o.config_toml += "[security]\nallow_virtual_input = true\n";
    ShellProcess shell(o);
    ASSERT_TRUE(shell.started()) << shell.log();
    ASSERT_TRUE(shell.wait_for_status(R"("name": "bravo", "state": "shut off")", 10s)) << shell.status_json();
    EXPECT_NE(shell.status_json().find(R"("selected": 0)"), std::string::npos);

    ASSERT_EQ(shell.wtype({"-k", "Down"}).exit_code, 0);
    EXPECT_TRUE(shell.wait_for_status(R"("selected": 1)", 5s)) << shell.status_json();
    // Enter on a shut-off guest starts it.
    ASSERT_EQ(shell.wtype({"-k", "Return"}).exit_code, 0);
    EXPECT_TRUE(shell.wait_for_status(R"("name": "bravo", "state": "running")", 10s)) << shell.status_json();
    // Force off takes two presses.
    ASSERT_EQ(shell.wtype({"-k", "f"}).exit_code, 0);
    ASSERT_EQ(shell.wtype({"-k", "Up"}).exit_code, 0); // a round trip: the first press has been handled
    ASSERT_EQ(shell.wtype({"-k", "Down"}).exit_code, 0);
    EXPECT_TRUE(shell.wait_for_status(R"("selected": 1)", 5s));
    EXPECT_NE(shell.status_json().find(R"("name": "bravo", "state": "running")"), std::string::npos);
    ASSERT_EQ(shell.wtype({"-k", "f"}).exit_code, 0);
    ASSERT_EQ(shell.wtype({"-k", "f"}).exit_code, 0);
    EXPECT_TRUE(shell.wait_for_status(R"("name": "bravo", "state": "shut off")", 10s)) << shell.status_json();
    // The guest with SPICE graphics says why it cannot be shown, and A twice adopts it.
    EXPECT_NE(shell.status_json().find("SPICE"), std::string::npos) << shell.status_json();
    ASSERT_EQ(shell.wtype({"-k", "a"}).exit_code, 0);
    ASSERT_EQ(shell.wtype({"-k", "a"}).exit_code, 0);
    auto bravo_graphics = [&] {
        const std::string j = shell.status_json();
        const auto at = j.find(R"("name": "bravo")");
        const auto g = j.find(R"("graphics": ")", at);
        return at == std::string::npos || g == std::string::npos ? std::string() : j.substr(g + 13, 8);
    };
    EXPECT_TRUE(wait_until([&] { return bravo_graphics() == "dbus-p2p"; }, 10s)) << shell.status_json();
    EXPECT_EQ(shell.status_json().find("SPICE"), std::string::npos) << shell.status_json();
    std::filesystem::remove_all(dir);
}

TEST(Shell, IdentityIsKeptInTheGuestsMetadata) {
    ShellProcess shell({});
    ASSERT_TRUE(shell.started()) << shell.log();
    EXPECT_NE(shell.status_json().find(R"("number": 1, "slot": null)"), std::string::npos) << shell.status_json();
    auto r = shell.ctl({"identity", "slot=3", "colour=#ff0000", "test"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(shell.wait_for_status(R"("number": 3, "slot": 3, "colour": "#ff0000")", 5s)) << shell.status_json();
    // Changing one keeps the other.
    r = shell.ctl({"identity", "slot=none", "test"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(shell.wait_for_status(R"("number": 1, "slot": null, "colour": "#ff0000")", 5s)) << shell.status_json();
    r = shell.ctl({"identity", "slot=100", "test"});
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.err.find("1 to 99"), std::string::npos) << r.err;
    r = shell.ctl({"identity", "colour=red", "nobody"});
    EXPECT_NE(r.exit_code, 0);
}

TEST(Shell, SighupReloadsTheConfigAndABrokenOneKeepsTheRunningConfig) {
    ShellProcess shell({});
    ASSERT_TRUE(shell.started()) << shell.log();
    std::ofstream(shell.config_path()) << "[output.HEADLESS-1]\nmode = \"1024x768\"\n";
    shell.send_signal(SIGHUP);
    EXPECT_TRUE(shell.wait_for_status(R"({"name": "HEADLESS-1", "width": 1024, "height": 768)", 5s))
        << shell.status_json();

    std::ofstream(shell.config_path()) << "[output.HEADLESS-1]\nmode = \"800x600\"\n[keyboard\n";
    shell.send_signal(SIGHUP);
    EXPECT_TRUE(wait_until([&] { return shell.log().find("keeping the running config") != std::string::npos; }, 5s));
    EXPECT_NE(shell.status_json().find(R"({"name": "HEADLESS-1", "width": 1024, "height": 768)"), std::string::npos)
        << shell.status_json();
    EXPECT_TRUE(shell.running());
}

TEST(Shell, VirtualInputIsOffByDefault) {
    if (!have_program("wtype"))
        GTEST_SKIP() << "wtype is not installed";
    ShellProcess shell({});
    ASSERT_TRUE(shell.started()) << shell.log();
    auto r = shell.wtype({"-k", "Down"});
    EXPECT_NE(r.exit_code, 0) << "wtype must not find the virtual keyboard protocol";
}

TEST(Shell, StartsUpQuicklyAndReportsItsFirstFrame) {
    ShellProcess shell({});
    ASSERT_TRUE(shell.started()) << shell.log();
    ASSERT_TRUE(shell.wait_for_status(R"("first_frame_ms": )", 5s));
    EXPECT_EQ(shell.status_json().find(R"("first_frame_ms": null)"), std::string::npos) << shell.status_json();
    EXPECT_EQ(shell.status_json().find(R"("rss_kb": 0,)"), std::string::npos);
}

} // namespace
} // namespace phyllome::test
