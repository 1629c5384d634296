// Issue 16: the clipboard moves only by explicit gesture. The real shell shows two fake guests
// whose peers serve QEMU's Clipboard (tests/display/fake_qemu_display_clipboard.cpp); Host+C and
// Host+V are real key chords (wtype), host applications are the real wl-copy and wl-paste
// (wlr-data-control, which [security] allow_data_control lets them bind here).
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "two_fake_guests_fixture.hpp"

namespace phyllome::test {
namespace {

using namespace std::chrono_literals;

const std::vector<std::string> just_registered = {"Unregister", "Register"};

class ClipboardTest : public TwoFakeGuestsTest {
protected:
    void SetUp() override {
        if (!have_program("wtype"))
            GTEST_SKIP() << "wtype is not installed";
    }
    void start(const std::string& more_toml = "") {
        start_with_two_guests("clipboard", 0x336699, 0x996633, "allow_data_control = true\n" + more_toml);
        // Both peers registered our Clipboard before the test goes on.
        ASSERT_TRUE(pump_until([&] { return clipboard_calls("amber") == just_registered &&
                                            clipboard_calls("teal") == just_registered; }, 10s))
            << shell_->log();
    }
    const std::vector<std::string>& clipboard_calls(const std::string& guest) {
        return peers_.at(guest)->clipboard_calls();
    }
    // Pumps the peers until status --json contains `needle`.
    bool status_shows(const std::string& needle, std::chrono::milliseconds deadline = 10s) {
        std::string last;
        const bool found = pump_until(
            [&] {
                last = shell_->status_json();
                return last.find(needle) != std::string::npos;
            },
            deadline);
        if (!found)
            ADD_FAILURE() << "status never showed " << needle << ": " << last;
        return found;
    }
    // The guest copies (its agent grabs); the shell answered QEMU's Grab.
    void guest_copies(const std::string& guest, const std::string& bytes, std::uint32_t serial) {
        auto& peer = *peers_.at(guest);
        const int before = peer.client_grab_calls();
        ASSERT_TRUE(peer.guest_copies(bytes, serial));
        ASSERT_TRUE(pump_until([&] { return peer.client_grab_calls() == before + 1; }, 5s));
    }
    CommandResult wl_paste() { return run_command({"wl-paste", "--no-newline"}, shell_->client_env(), 10s); }
};

TEST_F(ClipboardTest, HostCTakesTheShownGuestsTextAndAHostApplicationPastesIt) {
    if (!have_program("wl-paste"))
        GTEST_SKIP() << "wl-paste (wl-clipboard) is not installed";
    ASSERT_NO_FATAL_FAILURE(start());
    ASSERT_EQ(shown_guest(), "amber");
    guest_copies("amber", "Grüße aus amber, 1 2 3", 1);
    settle();
    EXPECT_EQ(clipboard_calls("amber"), just_registered) << "a guest's copy stays in the guest until Host+C";
    ASSERT_NO_FATAL_FAILURE(host("c"));
    ASSERT_TRUE(status_shows("copied 22 characters from amber"));
    EXPECT_EQ(clipboard_calls("amber").back(), "Request");
    const std::string json = shell_->status_json();
    EXPECT_NE(json.find(R"("clipboard": {"characters": 22, "bytes": 24, "source": "amber")"), std::string::npos)
        << json;
    EXPECT_EQ(json.find("Grüße"), std::string::npos) << "status never shows the text";
    CommandResult pasted = wl_paste();
    EXPECT_EQ(pasted.exit_code, 0) << pasted.err;
    EXPECT_EQ(pasted.out, "Grüße aus amber, 1 2 3");
    EXPECT_EQ(clipboard_calls("teal"), just_registered);
}

TEST_F(ClipboardTest, SwitchingMovesNothingAndHostVOffersOnlyToTheShownGuest) {
    ASSERT_NO_FATAL_FAILURE(start());
    guest_copies("amber", "secret of amber", 4);
    ASSERT_NO_FATAL_FAILURE(host("c"));
    ASSERT_TRUE(status_shows("copied 15 characters from amber"));
    const auto amber_after_copy = clipboard_calls("amber");

    ASSERT_NO_FATAL_FAILURE(host("Right"));
    ASSERT_TRUE(pump_until([&] { return shown_guest() == "teal"; }, 5s));
    ASSERT_NO_FATAL_FAILURE(host("Left"));
    ASSERT_TRUE(pump_until([&] { return shown_guest() == "amber"; }, 5s));
    ASSERT_NO_FATAL_FAILURE(host("Right"));
    ASSERT_TRUE(pump_until([&] { return shown_guest() == "teal"; }, 5s));
    settle();
    pump(300ms);
    EXPECT_EQ(clipboard_calls("teal"), just_registered) << "a switch offers nothing";
    EXPECT_EQ(clipboard_calls("amber"), amber_after_copy) << "a switch takes nothing";
    auto early = peers_.at("teal")->guest_pastes();
    ASSERT_TRUE(pump_until([&] { return early->answered; }, 5s));
    EXPECT_NE(early->error, "") << "teal cannot paste before Host+V";

    ASSERT_NO_FATAL_FAILURE(host("v"));
    ASSERT_TRUE(status_shows("teal can paste 15 characters from amber now"));
    ASSERT_FALSE(clipboard_calls("teal").empty());
    EXPECT_EQ(clipboard_calls("teal").back(), "Grab 1") << "above teal's serial (0 after registration)";
    auto paste = peers_.at("teal")->guest_pastes();
    ASSERT_TRUE(pump_until([&] { return paste->answered; }, 5s));
    EXPECT_EQ(paste->error, "");
    EXPECT_EQ(paste->text, "secret of amber");
    EXPECT_EQ(clipboard_calls("amber"), amber_after_copy) << "Host+V into teal never touches amber";
}

TEST_F(ClipboardTest, TooLargeOrNonUtf8CopiesAreRefusedWithANotice) {
    ASSERT_NO_FATAL_FAILURE(start("[clipboard]\nmax_bytes = 64\n"));
    guest_copies("amber", std::string(100, 'x'), 1);
    ASSERT_NO_FATAL_FAILURE(host("c"));
    ASSERT_TRUE(status_shows("amber's clipboard is too large (100 bytes; the limit is 64)"));
    guest_copies("amber", "caf\xe9 in latin-1", 2);
    ASSERT_NO_FATAL_FAILURE(host("c"));
    ASSERT_TRUE(status_shows("amber's clipboard is not UTF-8 text"));
    EXPECT_NE(shell_->status_json().find(R"("clipboard": {"characters": 0, "bytes": 0, "source": null)"),
              std::string::npos);
    EXPECT_TRUE(shell_->running());
}

TEST_F(ClipboardTest, AGuestAgentThatNeverAnswersTimesOutAndTheShellStaysResponsive) {
    ASSERT_NO_FATAL_FAILURE(start());
    guest_copies("amber", "stuck", 1);
    peers_.at("amber")->set_clipboard_agent_hung(true);
    ASSERT_NO_FATAL_FAILURE(host("c"));
    // The shell keeps working meanwhile: a switch goes through while the Request hangs.
    ASSERT_NO_FATAL_FAILURE(host("Right"));
    ASSERT_TRUE(pump_until([&] { return shown_guest() == "teal"; }, 3s)) << "the shell hung on the clipboard";
    ASSERT_TRUE(status_shows("amber did not answer in time", 15s));
}

TEST_F(ClipboardTest, AHostApplicationsCopyIsOfferedOnHostV) {
    if (!have_program("wl-copy"))
        GTEST_SKIP() << "wl-copy (wl-clipboard) is not installed";
    ASSERT_NO_FATAL_FAILURE(start());
    // --paste-once: wl-copy serves one paste (ours) and exits instead of lingering; the child it
    // forks to serve it must not hold our pipes open.
    CommandResult copied = run_command({"sh", "-c", "wl-copy --paste-once 'from a host terminal' >/dev/null 2>&1"},
                                       shell_->client_env(), 10s);
    ASSERT_EQ(copied.exit_code, 0) << copied.err;
    ASSERT_TRUE(status_shows(R"("host_selection": true)"));
    settle();
    EXPECT_EQ(clipboard_calls("amber"), just_registered) << "a host copy is not offered by itself";
    ASSERT_NO_FATAL_FAILURE(host("v"));
    ASSERT_TRUE(status_shows("amber can paste 20 characters from the host now"));
    auto paste = peers_.at("amber")->guest_pastes();
    ASSERT_TRUE(pump_until([&] { return paste->answered; }, 5s));
    EXPECT_EQ(paste->text, "from a host terminal");
    EXPECT_EQ(clipboard_calls("teal"), just_registered);
}

TEST_F(ClipboardTest, HostVWithNothingCopiedSaysSo) {
    ASSERT_NO_FATAL_FAILURE(start());
    ASSERT_NO_FATAL_FAILURE(host("v"));
    ASSERT_TRUE(status_shows("the clipboard is empty: copy from a guest with Host+C first"));
    ASSERT_NO_FATAL_FAILURE(host("c"));
    ASSERT_TRUE(status_shows("amber's clipboard is empty"));
    settle();
    EXPECT_EQ(clipboard_calls("amber"), just_registered);
}

// The kiosk's one guest has nowhere to copy to: in a locked kiosk Host+C and Host+V are no
// chords, the keys reach the guest as its own (Ctrl+)C, and nothing is taken.
TEST_F(ClipboardTest, ALockedKioskHasNoClipboardChords) {
    // Not start(): a kiosk shows its guest only after the guest's first frame.
    std::string tmpl = "/tmp/phyllome-clipboard-kiosk-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    loop_ = wl_event_loop_create();
    peers_ = listen_two_fake_guests(loop_, dir_);
    ShellProcess::Options o;
    o.config_toml += "[security]\nallow_virtual_input = true\n[kiosk]\nguest = \"amber\"\n";
    o.extra_args = two_fake_guests_args(dir_);
    shell_ = std::make_unique<ShellProcess>(o);
    ASSERT_TRUE(shell_->started()) << shell_->log();
    ASSERT_TRUE(pump_until([&] { return clipboard_calls("amber") == just_registered &&
                                        peers_.at("amber")->listener_connected(0); }, 20s))
        << shell_->log();
    paint_two_fake_guests(peers_, 0x336699, 0x996633);
    ASSERT_TRUE(pump_until([&] { return shown_guest() == "amber"; }, 10s)) << shell_->status_json();
    guest_copies("amber", "kiosk text", 1);
    const std::size_t before = calls("amber").size();
    ASSERT_NO_FATAL_FAILURE(host("c"));
    settle();
    pump(300ms);
    EXPECT_EQ(clipboard_calls("amber"), just_registered) << "Host+C took nothing";
    constexpr std::int64_t qnum_c = 0x2e;
    EXPECT_TRUE(has(input_since(calls("amber"), before), "Keyboard.Press", qnum_c)) << describe(calls("amber"));
    EXPECT_NE(shell_->status_json().find(R"("clipboard": {"characters": 0)"), std::string::npos);
}

} // namespace
} // namespace phyllome::test
