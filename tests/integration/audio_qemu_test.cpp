// Issue 16, sound with a real guest: QEMU 10 with <audio type='dbus'/> (an Intel HDA card whose
// sound the D-Bus display carries) starts in the embedded libvirt, takes the shell's
// AudioOutListener and announces its voice (Init), and keeps running; the shell plays it through
// a private PipeWire when one can be started here.
#include <gtest/gtest.h>

#include <stdlib.h>
#include <unistd.h>

#include <fstream>
#include <regex>

#include "embedded_guest.hpp"
#include "guestview/embedded_libvirt.hpp"
#include "pipewire_daemon.hpp"
#include "shell_process.hpp"
#include "tests/firmware/ovmf.hpp"

namespace phyllome::test {
namespace {

using namespace std::chrono_literals;

constexpr const char* guest = "phyllome-it-sound";

// The test guest with an HDA sound card on D-Bus audio, carried by the D-Bus display.
std::string sound_guest_xml() {
    std::string xml = embedded_guest_xml(guest);
    const std::string plain = "<graphics type='dbus' p2p='yes'/>";
    xml.replace(xml.find(plain), plain.size(), "<graphics type='dbus' p2p='yes'><audio id='1'/></graphics>");
    const std::string balloon = "<memballoon";
    xml.insert(xml.find(balloon), "<sound model='ich9'><audio id='1'/></sound>\n    <audio id='1' type='dbus'/>\n    ");
    return xml;
}

// The "voices" count of `name` in status --json's audio.guests, -1 when not listed.
int voices_of(const std::string& json, const std::string& name) {
    std::smatch m;
    const std::regex row("\\{\"name\": \"" + name + "\", \"state\": \"([a-z ]+)\", \"note\": [^,]+, \"audible\": "
                         "(true|false), \"voices\": ([0-9]+)");
    return std::regex_search(json, m, row) ? std::stoi(m[3]) : -1;
}

class RealGuestAudio : public ::testing::Test {
protected:
    void SetUp() override {
        if (const std::string why = embedded_guest_missing({"virsh"}); !why.empty())
            GTEST_SKIP() << why;
        ASSERT_EQ(guestview::prepare_embedded_root(embed_uri()), "");
        const std::string xml = embed_root() + "/it-sound-guest.xml";
        std::ofstream(xml) << sound_guest_xml();
        run_command({"virsh", "-c", embed_uri(), std::string("destroy ") + guest + "; undefine --nvram " + guest}, {}, 300s);
        auto r = run_command({"virsh", "-c", embed_uri(), "define", xml}, {}, 300s);
        ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    }
    void TearDown() override {
        shell.reset();
        daemon.reset();
        unsetenv("PIPEWIRE_RUNTIME_DIR");
        if (!IsSkipped())
            run_command({"virsh", "-c", embed_uri(), std::string("destroy ") + guest + "; undefine --nvram " + guest}, {}, 120s);
    }
    std::unique_ptr<PipeWireDaemon> daemon;
    std::unique_ptr<ShellProcess> shell;
};

TEST_F(RealGuestAudio, QemuWithDbusAudioTakesTheShellsListenerAndKeepsRunning) {
    if (PipeWireDaemon::missing_programs().empty()) {
        daemon = std::make_unique<PipeWireDaemon>();
        ASSERT_TRUE(daemon->start()) << daemon->error();
        setenv("PIPEWIRE_RUNTIME_DIR", daemon->runtime_dir().c_str(), 1);
    }
    ShellProcess::Options o;
    o.libvirt_uri = embed_uri();
    shell = std::make_unique<ShellProcess>(o);
    ASSERT_TRUE(shell->started()) << shell->log();
    auto r = shell->ctl({"start", guest});
    ASSERT_EQ(r.exit_code, 0) << r.err << shell->log();
    ASSERT_TRUE(shell->wait_for_status(std::string(R"("view": "guest", "guest": ")") + guest + "\"", 60s))
        << shell->status_json() << shell->log();

    // Registered (QEMU answered RegisterOutListener), and QEMU announced the HDA card's voice.
    EXPECT_TRUE(shell->wait_for_status(std::string(R"({"name": ")") + guest + R"(", "state": "playing")", 30s))
        << shell->status_json() << shell->log();
    EXPECT_TRUE(wait_until([&] { return voices_of(shell->status_json(), guest) >= 1; }, 30s))
        << shell->status_json() << shell->log();
    if (daemon) {
        EXPECT_TRUE(shell->wait_for_status(R"("audio": {"sound_server": true)", 10s)) << shell->status_json();
    }

    // QEMU keeps running with our listener (QEMU 7.2 crashed here in p2p mode), and so do we.
    const auto pid = qemu_pid(guest);
    ASSERT_TRUE(pid.has_value());
    // The firmware goes on to draw its screen after the registration.
    EXPECT_TRUE(shell->wait_for_status(R"("scanout": {"width": 1280, "height": 800)", 120s)) << shell->status_json();
    EXPECT_EQ(qemu_pid(guest), pid) << shell->log();
    EXPECT_NE(shell->status_json().find(std::string(R"("view": "guest", "guest": ")") + guest + "\""), std::string::npos);
    EXPECT_TRUE(shell->running()) << shell->log();
}

} // namespace
} // namespace phyllome::test
