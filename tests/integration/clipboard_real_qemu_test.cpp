// Issue 16 with a real guest: QEMU (TCG, OVMF) in the embedded libvirt with the qemu-vdagent
// channel the machine model adds, shown by the real shell, accepts our Clipboard registration
// (QEMU calls our Register back to reset serials, no "already registered" error). A copy or paste
// through spice-vdagent cannot happen here: the test guest is firmware only, no agent runs in it,
// so Host+C must say the guest's clipboard is empty, and QEMU must accept Host+V's Grab (of a
// host application's copy, set with wl-copy), with nobody inside to paste it.
#include <gtest/gtest.h>

#include <unistd.h>

#include <fstream>

#include "embedded_guest.hpp"
#include "guestview/embedded_libvirt.hpp"
#include "shell_process.hpp"
#include "tests/firmware/ovmf.hpp"

namespace phyllome::test {
namespace {

using namespace std::chrono_literals;

constexpr const char* guest = "phyllome-it-clipboard";

class ClipboardRealQemu : public ::testing::Test {
protected:
    void SetUp() override {
        if (const std::string why = embedded_guest_missing({"virsh", "wtype"}); !why.empty())
            GTEST_SKIP() << why;
        ASSERT_EQ(guestview::prepare_embedded_root(embed_uri()), "");
        std::string xml = embedded_guest_xml(guest);
        // What guestview/domain_model.cpp adds for every new guest.
        const std::string channel = R"(<channel type='qemu-vdagent'>
      <source><clipboard copypaste='yes'/><mouse mode='client'/></source>
      <target type='virtio' name='com.redhat.spice.0'/>
    </channel>
    )";
        xml.insert(xml.find("<memballoon"), channel);
        const std::string path = embed_root() + "/it-clipboard.xml";
        std::ofstream(path) << xml;
        run_command({"virsh", "-c", embed_uri(), std::string("destroy ") + guest + "; undefine --nvram " + guest}, {}, 300s);
        auto r = run_command({"virsh", "-c", embed_uri(), "define", path}, {}, 300s);
        ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    }
    void TearDown() override {
        shell.reset();
        if (!IsSkipped())
            run_command({"virsh", "-c", embed_uri(), std::string("destroy ") + guest + "; undefine --nvram " + guest}, {}, 120s);
    }
    void host(const std::string& key) {
        auto r = shell->wtype({"-P", "Control_R", "-k", key, "-p", "Control_R"});
        ASSERT_EQ(r.exit_code, 0) << r.err;
    }
    std::unique_ptr<ShellProcess> shell;
};

TEST_F(ClipboardRealQemu, AGuestWithTheVdagentChannelAcceptsOurClipboard) {
    ShellProcess::Options o;
    o.libvirt_uri = embed_uri();
    // Debug: the line saying QEMU called our Register back (to reset serials) is a debug one.
    o.config_toml = "[general]\nlog_level = \"debug\"\n" + o.config_toml +
                    "[security]\nallow_virtual_input = true\nallow_data_control = true\n";
    shell = std::make_unique<ShellProcess>(o);
    ASSERT_TRUE(shell->started()) << shell->log();
    auto r = shell->ctl({"start", guest});
    ASSERT_EQ(r.exit_code, 0) << r.err << shell->log();
    ASSERT_TRUE(shell->wait_for_status(std::string(R"("view": "guest", "guest": ")") + guest + "\"", 120s))
        << shell->status_json() << shell->log();
    const std::string registered = std::string("\"") + guest + R"(": {"registered": true)";
    ASSERT_TRUE(shell->wait_for_status(registered, 30s)) << shell->status_json() << shell->log();
    const std::string log = shell->log();
    EXPECT_NE(log.find(std::string("guest ") + guest + ": clipboard registered"), std::string::npos) << log;
    EXPECT_EQ(log.find("refused our clipboard"), std::string::npos) << log;

    // No agent in the guest: nothing to take, said plainly; QEMU takes our offer all the same.
    host("c");
    ASSERT_TRUE(shell->wait_for_status(std::string(guest) + "'s clipboard is empty", 15s)) << shell->status_json();
    // QEMU called our Register back after registering us (qemu_clipboard_reset_serial).
    EXPECT_NE(shell->log().find(std::string("guest ") + guest + ": QEMU reset the clipboard serials"), std::string::npos)
        << shell->log();
    if (!have_program("wl-copy"))
        return; // the registration is what this test is for
    r = run_command({"sh", "-c", "wl-copy --paste-once 'hello, guest' >/dev/null 2>&1"}, shell->client_env(), 10s);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    ASSERT_TRUE(shell->wait_for_status(R"("host_selection": true)", 10s)) << shell->status_json();
    host("v");
    ASSERT_TRUE(shell->wait_for_status(std::string(guest) + " can paste 12 characters from the host now", 15s))
        << shell->status_json() << shell->log();
    EXPECT_TRUE(shell->wait_for_status(registered + R"(, "guest_has_text": false, "offering": true)", 5s))
        << shell->status_json();
    EXPECT_TRUE(shell->running());
}

} // namespace
} // namespace phyllome::test
