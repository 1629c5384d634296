// The real thing end to end: a guest in an embedded libvirt, QEMU 7.2 with OVMF under TCG, the
// shell on the headless backend showing its screen and typing into it.
#include <gtest/gtest.h>

#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "guestview/embedded_libvirt.hpp"
#include "tests/guestview/installer_iso.hpp"
#include "embedded_guest.hpp"
#include "tests/firmware/ovmf.hpp"
#include "shell_process.hpp"

namespace phyllome::test {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

constexpr const char* guest = "phyllome-it-guest";


int bright_pixels(const Image& img) {
    int n = 0;
    for (int y = 0; y < img.height; ++y)
        for (int x = 0; x < img.width; ++x)
            if ((img.pixel(x, y) & 0xff) > 0x80 || ((img.pixel(x, y) >> 8) & 0xff) > 0x80)
                ++n;
    return n;
}

class GuestScreen : public ::testing::Test {
protected:
    void SetUp() override {
        if (const std::string why = embedded_guest_missing({"virsh", "grim"}); !why.empty())
            GTEST_SKIP() << why;
        // The qemu.conf the shell would write, so virsh below runs the driver the same way.
        ASSERT_EQ(guestview::prepare_embedded_root(embed_uri()), "");
        const std::string xml = embed_root() + "/it-guest.xml";
        std::ofstream(xml) << embedded_guest_xml(guest);
        // Leftovers of an interrupted run go first; the first run also probes QEMU (about a minute).
        run_command({"virsh", "-c", embed_uri(), std::string("destroy ") + guest + "; undefine --nvram " + guest}, {}, 300s);
        auto r = run_command({"virsh", "-c", embed_uri(), "define", xml}, {}, 300s);
        ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    }
    void TearDown() override {
        shell.reset();
        if (!IsSkipped())
            run_command({"virsh", "-c", embed_uri(), std::string("destroy ") + guest + "; undefine --nvram " + guest}, {}, 120s);
    }
    void start_shell() {
        ShellProcess::Options o;
        o.libvirt_uri = embed_uri();
        o.config_toml += "[security]\nallow_virtual_input = true\n";
        shell = std::make_unique<ShellProcess>(o);
        ASSERT_TRUE(shell->started()) << shell->log();
    }
    std::unique_ptr<ShellProcess> shell;
};

TEST_F(GuestScreen, ShowsTheRunningGuestFullscreenTakesKeysAndSurvivesQemuDying) {
    start_shell();
    auto r = shell->ctl({"start", guest});
    ASSERT_EQ(r.exit_code, 0) << r.err << shell->log();

    // The started guest is attached and shown by itself, at the firmware's 1280x800.
    ASSERT_TRUE(shell->wait_for_status(std::string(R"("view": "guest", "guest": ")") + guest + "\"", 60s))
        << shell->status_json() << shell->log();
    ASSERT_TRUE(shell->wait_for_status(R"("scanout": {"width": 1280, "height": 800, "path": "copy"})", 120s))
        << shell->status_json();

    // Wait for the UEFI shell prompt: a screen with text that stops changing.
    std::optional<Image> before;
    ASSERT_TRUE(wait_until(
        [&] {
            auto a = shell->screenshot();
            if (!a || bright_pixels(*a) < 2000)
                return false;
            std::this_thread::sleep_for(1500ms); // a quiet period: the screen has settled
            auto b = shell->screenshot();
            if (!b || b->rgb != a->rgb)
                return false;
            before = b;
            return true;
        },
        120s))
        << shell->status_json();
    EXPECT_EQ(before->width, 1280);
    EXPECT_EQ(before->height, 800);

    // What the shell shows is the guest's framebuffer pixel for pixel (QEMU's own screendump,
    // through libvirt). The UEFI cursor blinks, so compare pairs taken close together.
    const std::string guest_ppm = shell->log_path() + ".guest.png";
    bool identical = false;
    std::size_t differing = 0;
    ASSERT_TRUE(wait_until(
        [&] {
            auto ours = shell->screenshot();
            auto r = shell->ctl({"screenshot", guest, guest_ppm});
            if (!ours || r.exit_code != 0)
                return false;
            std::ifstream f(guest_ppm, std::ios::binary);
            std::string bytes((std::istreambuf_iterator<char>(f)), {});
            auto theirs = parse_image(bytes);
            if (!theirs || theirs->width != ours->width || theirs->height != ours->height)
                return false;
            differing = 0;
            for (std::size_t i = 0; i < ours->rgb.size(); ++i)
                differing += ours->rgb[i] != theirs->rgb[i];
            identical = differing == 0;
            return identical;
        },
        20s))
        << "grim and the guest's screendump still differ in " << differing << " bytes";

    // The libvirt agent dies: the overlay's libvirt line says why, yet the guest stays shown and
    // streaming (its display socket is the shell's own), as the keys typed below show.
    const std::string before_kill = shell->status_json();
    const auto at = before_kill.find(R"("agent_pid": )");
    ASSERT_NE(at, std::string::npos) << before_kill;
    const pid_t agent = std::stoi(before_kill.substr(at + 13));
    ASSERT_GT(agent, 0);
    ASSERT_EQ(kill(agent, SIGKILL), 0);
    EXPECT_TRUE(shell->wait_for_status("libvirt agent stopped (killed by signal 9); restarting in 1 s", 5s))
        << shell->status_json();
    EXPECT_NE(shell->status_json().find(std::string(R"("view": "guest", "guest": ")") + guest + "\""),
              std::string::npos);

    // Type a command into the guest through the shell: its screen reacts.
    ASSERT_EQ(shell->wtype({"ver"}).exit_code, 0);
    ASSERT_EQ(shell->wtype({"-k", "Return"}).exit_code, 0);
    EXPECT_TRUE(wait_until(
        [&] {
            auto now = shell->screenshot();
            return now && bright_pixels(*now) > bright_pixels(*before) + 500;
        },
        30s))
        << "the guest did not react to keys";
    // The agent is back, with the guest running and still attached, not reopened.
    EXPECT_TRUE(shell->wait_for_status(R"("state": "connected")", 15s)) << shell->status_json();
    EXPECT_TRUE(shell->wait_for_status(std::string(R"("name": ")") + guest + R"(", "state": "running")", 15s))
        << shell->status_json();
    EXPECT_NE(shell->status_json().find(R"("display": "connected")"), std::string::npos) << shell->status_json();
    const std::string log = shell->log();
    const auto restarted = log.find("libvirt agent: restarting");
    EXPECT_NE(restarted, std::string::npos);
    EXPECT_EQ(log.find("display attached", restarted), std::string::npos)
        << "the display was reopened after the agent came back";

    // QEMU dies: the shell stays up and falls back to the overlay with what happened.
    const auto pid = qemu_pid(guest);
    ASSERT_TRUE(pid.has_value()) << "no QEMU process for " << guest;
    kill(*pid, SIGKILL);
    EXPECT_TRUE(shell->wait_for_status(R"("view": "overlay")", 15s)) << shell->status_json();
    EXPECT_TRUE(shell->running());
    EXPECT_TRUE(shell->wait_for_status(R"("display": "none")", 15s)) << shell->status_json();
    // The overlay tells the user: the notice is drawn, and the guest can be started again.
    r = shell->ctl({"start", guest});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(shell->wait_for_status(R"("display": "connected")", 60s)) << shell->status_json();
}

TEST_F(GuestScreen, ACreatedGuestStartsUnderTcgAndShowsItsFirmware) {
    constexpr const char* created = "phyllome-it-created";
    run_command({"virsh", "-c", embed_uri(), std::string("destroy ") + created + "; undefine --nvram " + created}, {}, 120s);
    if (!have_program("xorriso"))
        GTEST_SKIP() << "xorriso is not installed";
    start_shell();
    // A bootable disc no OS database knows: the firmware finds nothing on it to boot.
    std::string error;
    const fs::path log = shell->log_path();
    const std::string iso = guestview::testing::make_installer_iso(log.parent_path(), log.filename().string() + ".iso",
                                                                   {"PHYLLOME_IT_DISC", "", "", true}, error);
    ASSERT_FALSE(iso.empty()) << error;
    auto r = shell->ctl({"create", created, "--iso", iso, "--disk-size", "1", "--memory", "256", "--cpus", "1", "--tcg"});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_NE(r.out.find("unknown system, compatible devices chosen"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("the disk is not encrypted"), std::string::npos) << r.out;
    EXPECT_TRUE(shell->wait_for_status(std::string(R"("name": ")") + created + R"(", "state": "shut off")", 10s))
        << shell->status_json();
    r = shell->ctl({"start", created});
    ASSERT_EQ(r.exit_code, 0) << r.err << shell->log();
    EXPECT_TRUE(shell->wait_for_status(std::string(R"("view": "guest", "guest": ")") + created + "\"", 60s))
        << shell->status_json();
    EXPECT_TRUE(shell->wait_for_status(R"("scanout": {"width": 1280, "height": 800, "path": "copy"})", 120s))
        << shell->status_json();
    shell->ctl({"destroy", created});
    shell.reset();
    run_command({"virsh", "-c", embed_uri(), std::string("undefine --nvram ") + created}, {}, 120s);
}

// Issue 16: a new guest gets a virtio-gpu head per output the shell has.
TEST_F(GuestScreen, ANewGuestGetsAHeadPerOutput) {
    constexpr const char* created = "phyllome-it-heads";
    run_command({"virsh", "-c", embed_uri(), std::string("undefine --nvram ") + created}, {}, 120s);
    if (!have_program("xorriso"))
        GTEST_SKIP() << "xorriso is not installed";
    start_shell();
    auto r = shell->ctl({"output", "add", "1024x768"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    std::string error;
    const fs::path log = shell->log_path();
    const std::string iso = guestview::testing::make_installer_iso(log.parent_path(), log.filename().string() + ".iso",
                                                                   {"PHYLLOME_IT_HEADS", "", "", true}, error);
    ASSERT_FALSE(iso.empty()) << error;
    r = shell->ctl({"create", created, "--iso", iso, "--disk-size", "1", "--memory", "256", "--cpus", "1", "--tcg"});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_NE(r.out.find("; 2 screens"), std::string::npos) << r.out;
    shell.reset(); // the embedded libvirt's root takes one process at a time
    const auto xml = run_command({"virsh", "-c", embed_uri(), std::string("dumpxml ") + created}, {}, 60s);
    EXPECT_NE(xml.out.find("heads='2'"), std::string::npos) << xml.out;
    run_command({"virsh", "-c", embed_uri(), std::string("undefine --nvram ") + created}, {}, 120s);
}

TEST_F(GuestScreen, NewGuestFromTheOverlayUsesAnInstallerFoundOnTheHost) {
    if (!have_program("wtype"))
        GTEST_SKIP() << "wtype is not installed";
    constexpr const char* created = "Phyllome-IT-netinst";
    run_command({"virsh", "-c", embed_uri(), std::string("undefine --nvram ") + created}, {}, 120s);
    start_shell();
    // The shell looks in $XDG_DATA_HOME/phyllome/isos among other places; the harness points
    // XDG_DATA_HOME into the test's folder.
    const std::string dir = shell->log_path().substr(0, shell->log_path().rfind('/'));
    fs::create_directories(dir + "/data/phyllome/isos");
    std::string error;
    ASSERT_FALSE(guestview::testing::make_installer_iso(dir + "/data/phyllome/isos", "Phyllome IT-netinst.iso",
                                                        guestview::testing::debian12_ids(), error)
                     .empty())
        << error;
    ASSERT_EQ(shell->wtype({"-k", "n"}).exit_code, 0);
    ASSERT_EQ(shell->wtype({"-k", "Return"}).exit_code, 0);
    // The card: the agent recognised Debian on the installer and proposes its sizes.
    ASSERT_TRUE(shell->wait_for_status(R"("os": "Debian 12", "os_id": "debian12")", 30s))
        << shell->status_json() << shell->log();
    const std::string before = shell->status_json();
    const auto memory_at = [](const std::string& json) {
        const auto at = json.find(R"("memory_mb": )");
        return at == std::string::npos ? -1 : std::atoi(json.c_str() + at + 13);
    };
    const int proposed = memory_at(before);
    ASSERT_GT(proposed, 0) << before;
    ASSERT_EQ(shell->wtype({"-k", "Right"}).exit_code, 0); // a bit more memory than proposed
    const int chosen = proposed + (proposed < 2048 ? 512 : 1024);
    ASSERT_TRUE(shell->wait_for_status("\"memory_mb\": " + std::to_string(chosen), 10s)) << shell->status_json();
    ASSERT_EQ(shell->wtype({"-k", "Return"}).exit_code, 0);
    EXPECT_TRUE(shell->wait_for_status(std::string(R"("name": ")") + created + R"(", "state": "shut off")", 60s))
        << shell->status_json() << shell->log();
    EXPECT_TRUE(shell->wait_for_status(R"("new_guest": null)", 10s)) << "the card closes";
    shell.reset(); // the embedded libvirt's root takes one process at a time
    const auto xml = run_command({"virsh", "-c", embed_uri(), std::string("dumpxml ") + created}, {}, 60s);
    EXPECT_NE(xml.out.find("http://debian.org/debian/12"), std::string::npos) << xml.out;
    EXPECT_NE(xml.out.find("<memory unit='KiB'>" + std::to_string(chosen * 1024) + "</memory>"), std::string::npos)
        << xml.out;
    EXPECT_NE(xml.out.find("qemu-vdagent"), std::string::npos) << "the Linux model";
    run_command({"virsh", "-c", embed_uri(), std::string("undefine --nvram ") + created}, {}, 120s);
}

} // namespace
} // namespace phyllome::test
