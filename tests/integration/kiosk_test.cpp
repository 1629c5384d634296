// Kiosk mode end to end: a real guest (QEMU 7.2 + OVMF under TCG) in the embedded libvirt the
// guest screen test uses, the shell started with `--kiosk NAME`: it starts the guest by itself,
// shows only it, and when QEMU dies restarts it or ends the session as configured.
#include <gtest/gtest.h>

#include <signal.h>
#include <unistd.h>

#include <fstream>
#include <regex>

#include "guestview/embedded_libvirt.hpp"
#include "embedded_guest.hpp"
#include "tests/firmware/ovmf.hpp"
#include "shell_process.hpp"

namespace phyllome::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr const char* guest = "phyllome-it-kiosk";
constexpr unsigned overlay_background = 0x1b1d23;


// kiosk.message from status --json; nullopt when there is no kiosk object.
std::optional<std::string> kiosk_message(const std::string& json) {
    std::smatch m;
    static const std::regex re(R"re("kiosk": \{"guest": "[^"]*", "message": "((?:[^"\\]|\\.)*)"\})re");
    if (!std::regex_search(json, m, re))
        return std::nullopt;
    return m[1].str();
}

bool shows_guest(const std::string& json) {
    return json.find(std::string(R"("view": "guest", "guest": ")") + guest + "\"") != std::string::npos;
}

std::optional<pid_t> qemu_pid() { return test::qemu_pid(guest); }

long ms_since(Clock::time_point t) {
    return static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count());
}

class Kiosk : public ::testing::Test {
protected:
    void SetUp() override {
        if (const std::string why = embedded_guest_missing({"virsh", "grim", "wtype"}); !why.empty())
            GTEST_SKIP() << why;
        ASSERT_EQ(guestview::prepare_embedded_root(embed_uri()), "");
        const std::string xml = embed_root() + "/it-kiosk.xml";
        std::ofstream(xml) << embedded_guest_xml(guest);
        // Leftovers of an interrupted run go first; the guest is defined shut off.
        run_command({"virsh", "-c", embed_uri(), std::string("destroy ") + guest + "; undefine --nvram " + guest}, {}, 300s);
        auto r = run_command({"virsh", "-c", embed_uri(), "define", xml}, {}, 300s);
        ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
        r = run_command({"virsh", "-c", embed_uri(), "domstate", guest}, {}, 60s);
        ASSERT_NE(r.out.find("shut off"), std::string::npos) << r.out << r.err;
    }
    void TearDown() override {
        shell.reset();
        if (!IsSkipped())
            run_command({"virsh", "-c", embed_uri(), std::string("destroy ") + guest + "; undefine --nvram " + guest}, {},
                        120s);
    }
    void start_shell(const std::string& kiosk_config) {
        ShellProcess::Options o;
        o.libvirt_uri = embed_uri();
        o.config_toml += "[security]\nallow_virtual_input = true\n[kiosk]\n" + kiosk_config;
        o.extra_args = {"--kiosk", guest};
        shell = std::make_unique<ShellProcess>(o);
        ASSERT_TRUE(shell->started()) << shell->log();
    }
    // Waits for the guest, started by the shell itself, to be on screen with a picture.
    void expect_guest_shown(std::chrono::seconds deadline) {
        std::string json;
        ASSERT_TRUE(wait_until(
            [&] {
                json = shell->status_json();
                return shows_guest(json) && kiosk_message(json) == std::string();
            },
            deadline))
            << json << shell->log();
    }
    std::unique_ptr<ShellProcess> shell;
};

TEST_F(Kiosk, StartsItsGuestShowsOnlyItAndRestartsItAfterACrash) {
    const auto started = Clock::now();
    start_shell("restart_delay_ms = 500\n");
    if (HasFatalFailure())
        return;

    // Before the first frame: the kiosk screen says it is starting the guest.
    const std::string starting = std::string("Starting ") + guest + "…";
    std::string json = shell->status_json();
    EXPECT_EQ(kiosk_message(json), starting) << json;
    EXPECT_NE(json.find(R"("view": "overlay")"), std::string::npos) << json;
    // A screenshot taken between two "Starting" statuses is the kiosk screen: the overlay
    // background with the message on it.
    const auto img = shell->screenshot();
    const std::string after = shell->status_json();
    ASSERT_TRUE(img.has_value());
    const bool screenshot_while_starting = kiosk_message(after) == starting;
    std::printf("kiosk: screenshot taken while starting: %s\n", screenshot_while_starting ? "yes" : "no");
    if (screenshot_while_starting) {
        int background = 0;
        for (int y = 0; y < img->height; ++y)
            for (int x = 0; x < img->width; ++x)
                background += img->pixel(x, y) == overlay_background;
        EXPECT_GT(background, img->width * img->height / 2) << "the starting screen is not on the overlay layer";
        EXPECT_LT(background, img->width * img->height) << "the starting screen has no message";
    }

    // The shell started the guest by itself and shows it once it has drawn.
    expect_guest_shown(120s);
    if (HasFatalFailure())
        return;
    std::printf("kiosk: guest shown %ld ms after the shell started\n", ms_since(started));
    EXPECT_TRUE(shell->wait_for_status(R"("path": "copy"})", 60s)) << shell->status_json();

    // Host+Home does nothing in a kiosk without admin_key. wtype finishes with a roundtrip,
    // so the shell has handled the keys before the status below is asked for.
    auto r = shell->wtype({"-P", "Control_R", "-k", "Home", "-p", "Control_R"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    json = shell->status_json();
    EXPECT_TRUE(shows_guest(json)) << "Host+Home left the kiosk guest: " << json;
    // Nor does Host+Right (nothing else to switch to, and no switching in a kiosk).
    r = shell->wtype({"-P", "Control_R", "-k", "Right", "-p", "Control_R"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    json = shell->status_json();
    EXPECT_TRUE(shows_guest(json)) << "Host+Right left the kiosk guest: " << json;

    // QEMU dies: the kiosk says so and brings the guest back after restart_delay_ms.
    const auto pid = qemu_pid();
    ASSERT_TRUE(pid.has_value()) << "no QEMU process for " << guest;
    ASSERT_EQ(kill(*pid, SIGKILL), 0);
    const auto killed = Clock::now();
    std::string stopped;
    ASSERT_TRUE(wait_until(
        [&] {
            json = shell->status_json();
            auto m = kiosk_message(json);
            if (m && m->find("stopped") != std::string::npos)
                stopped = *m;
            return !stopped.empty();
        },
        30s))
        << json << shell->log();
    std::printf("kiosk: after kill -9: \"%s\" (%ld ms after the kill)\n", stopped.c_str(), ms_since(killed));
    EXPECT_EQ(stopped.rfind(std::string(guest) + " stopped: ", 0), 0u) << stopped;
    EXPECT_NE(stopped.find("Restarting"), std::string::npos) << stopped;
    EXPECT_NE(json.find(R"("view": "overlay")"), std::string::npos) << json;
    const auto stopped_seen = Clock::now();
    // Within the delay (500 ms, shown rounded up as 1 s) the shell asks libvirt to start it again.
    std::string restarting;
    EXPECT_TRUE(wait_until(
        [&] {
            restarting = kiosk_message(json = shell->status_json()).value_or("");
            return restarting == starting || restarting.empty();
        },
        10s))
        << restarting;
    const long restart_ms = ms_since(killed);
    std::printf("kiosk: restart requested by %ld ms after the kill, %ld ms after the stopped message\n", restart_ms,
                ms_since(stopped_seen));
    EXPECT_LT(restart_ms, 5000) << "restart_delay_ms = 500 but the restart took longer";
    expect_guest_shown(120s);
    std::printf("kiosk: guest back on screen %ld ms after the kill\n", ms_since(killed));
    EXPECT_TRUE(qemu_pid().has_value());
    EXPECT_NE(qemu_pid(), pid);
    EXPECT_TRUE(shell->running());
}

TEST_F(Kiosk, AdminKeyOpensTheOverlayAndExitPolicyEndsTheSessionWhenQemuDies) {
    start_shell("on_guest_exit = \"exit\"\nadmin_key = \"F12\"\n");
    if (HasFatalFailure())
        return;
    expect_guest_shown(120s);
    if (HasFatalFailure())
        return;
    auto host = [&](const std::string& key) {
        auto r = shell->wtype({"-P", "Control_R", "-k", key, "-p", "Control_R"});
        ASSERT_EQ(r.exit_code, 0) << r.err;
    };
    // Only the admin key opens the overlay; the usual Host+Home still does nothing.
    host("Home");
    std::string json = shell->status_json();
    EXPECT_TRUE(shows_guest(json)) << "Host+Home left the kiosk guest: " << json;
    host("F12");
    EXPECT_TRUE(shell->wait_for_status(R"("view": "overlay")", 10s)) << "Host+F12 (admin_key) did nothing";
    auto r = shell->ctl({"show", guest});
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    expect_guest_shown(10s);

    const auto pid = qemu_pid();
    ASSERT_TRUE(pid.has_value()) << "no QEMU process for " << guest;
    ASSERT_EQ(kill(*pid, SIGKILL), 0);
    const auto killed = Clock::now();
    EXPECT_TRUE(wait_until([&] { return !shell->running(); }, 30s)) << "the shell is still running: " << shell->log();
    std::printf("kiosk: shell exited %ld ms after the kill\n", ms_since(killed));
    // A crash ends the session with 1 (a clean shutdown would be 0).
    EXPECT_EQ(shell->stop(), 1) << shell->log();
}

// DISABLED: shell bug — restart_delay_ms is rounded up to whole seconds. Server::kiosk_act arms
// kiosk_timer_ for the policy's delay (200 ms here), then Server::kiosk_update
// (compositor/server.cpp, "Keep a countdown on screen current") re-arms the same timer for
// 1000 ms because the message says "Restarting in 1 s…"; KioskPolicy::on_timer only restarts
// once now >= restart_at, so the guest is started on the next whole-second tick (~1000 ms
// here, 3000 ms for 2500 ms). Fix: arm the timer for min(1000 ms, time left until the restart),
// or use a second timer for the countdown. Run with --gtest_also_run_disabled_tests.
TEST_F(Kiosk, RestartHonoursASubSecondDelay) {
    start_shell("restart_delay_ms = 200\n");
    if (HasFatalFailure())
        return;
    expect_guest_shown(120s);
    if (HasFatalFailure())
        return;
    const auto pid = qemu_pid();
    ASSERT_TRUE(pid.has_value()) << "no QEMU process for " << guest;
    ASSERT_EQ(kill(*pid, SIGKILL), 0);
    // From the moment the kiosk says it stopped to the moment it starts the guest again.
    std::string json;
    ASSERT_TRUE(wait_until(
        [&] {
            auto m = kiosk_message(json = shell->status_json());
            return m && m->find("Restarting") != std::string::npos;
        },
        30s))
        << json;
    const auto stopped_seen = Clock::now();
    ASSERT_TRUE(wait_until(
        [&] { return kiosk_message(json = shell->status_json()).value_or("x").find("Restarting") == std::string::npos; },
        10s))
        << json;
    const long waited = ms_since(stopped_seen);
    std::printf("kiosk: restart_delay_ms = 200, restarted %ld ms after the message\n", waited);
    EXPECT_LT(waited, 600) << "the restart waited for the next whole second";
    expect_guest_shown(120s);
}

} // namespace
} // namespace phyllome::test
