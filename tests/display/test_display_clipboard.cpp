// DisplayConnection's clipboard against FakeQemuDisplay's (QEMU's rules), on one event loop:
// registration, the guest's grab only remembered, take (Host+C), offer (Host+V), serials, and
// refusals of what is not text or too large, and a guest agent that never answers.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <optional>

#include "guestview/display/display_clipboard.hpp"
#include "guestview/display/display_connection.hpp"
#include "tests/display/fake_qemu_display.hpp"
#include "tests/display/loop_runner.hpp"

namespace phyllome::guestview {
namespace {

using testing::FakeConsoleConfig;
using testing::FakeQemuDisplay;
using testing::LoopRunner;

class DisplayClipboardTest : public ::testing::Test {
protected:
    void connect(bool earlier_peer = false) {
        fake = std::make_unique<FakeQemuDisplay>(runner.loop(), "test-vm", std::vector{FakeConsoleConfig{}});
        if (earlier_peer)
            fake->clipboard_registered_by_earlier_peer();
        std::string error;
        display = DisplayConnection::from_fd(runner.loop(), fake->client_socket(), "win11", {}, error);
        ASSERT_TRUE(display) << error;
        ASSERT_TRUE(runner.run_until([&] { return display->clipboard_state().registered; }));
        // QEMU resets serials by calling our Register right after it registered us.
        ASSERT_TRUE(runner.run_until([&] { return fake->client_register_calls() == 1; }));
    }

    ClipboardOutcome take(std::size_t max_bytes = 1 << 20) {
        std::optional<ClipboardOutcome> result;
        display->take_clipboard(max_bytes, [&](ClipboardOutcome r) { result = std::move(r); });
        EXPECT_TRUE(runner.run_until([&] { return result.has_value(); }, std::chrono::seconds(10)));
        return result.value_or(ClipboardOutcome{false, {}, "no answer"});
    }
    ClipboardOutcome offer(std::string text) {
        std::optional<ClipboardOutcome> result;
        display->offer_clipboard(std::move(text), [&](ClipboardOutcome r) { result = std::move(r); });
        EXPECT_TRUE(runner.run_until([&] { return result.has_value(); }));
        return result.value_or(ClipboardOutcome{false, {}, "no answer"});
    }
    // The guest copied: QEMU called our Grab and we answered.
    void guest_copies(std::string bytes, std::uint32_t serial, bool as_text = true, bool crossing = false) {
        const int before = fake->client_grab_calls();
        ASSERT_TRUE(fake->guest_copies(std::move(bytes), serial, as_text, crossing));
        ASSERT_TRUE(runner.run_until([&] { return fake->client_grab_calls() == before + 1; }));
    }
    std::string last_call() const { return fake->clipboard_calls().empty() ? "" : fake->clipboard_calls().back(); }

    LoopRunner runner;
    std::unique_ptr<FakeQemuDisplay> fake;
    std::unique_ptr<DisplayConnection> display;
};

TEST_F(DisplayClipboardTest, RegistersAsynchronouslyAfterUnregister) {
    connect();
    EXPECT_EQ(fake->clipboard_calls(), (std::vector<std::string>{"Unregister", "Register"}));
    EXPECT_TRUE(fake->client_object_read()) << "QEMU reads our Clipboard object before it answers Register";
    EXPECT_TRUE(fake->clipboard_registered());
}

// QEMU 7.2 keeps a p2p peer registered after its connection closed; Unregister first gets past it.
TEST_F(DisplayClipboardTest, RegistersOverAStaleRegistrationOfQemu72) {
    connect(true);
    EXPECT_EQ(fake->clipboard_calls(), (std::vector<std::string>{"Unregister", "Register"}));
    EXPECT_TRUE(display->clipboard_state().registered);
}

TEST_F(DisplayClipboardTest, AGuestCopyIsOnlyRememberedUntilTaken) {
    connect();
    guest_copies("héllo from the guest", 1);
    runner.run_until([] { return false; }, std::chrono::milliseconds(200));
    EXPECT_EQ(fake->clipboard_calls().size(), 2u) << "nothing was requested before Host+C";
    EXPECT_TRUE(display->clipboard_state().guest_has_text);
    ClipboardOutcome r = take();
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.text, "héllo from the guest");
    EXPECT_EQ(last_call(), "Request");
    EXPECT_EQ(utf8_characters(r.text), 20u);
}

TEST_F(DisplayClipboardTest, TakeFromAnEmptyClipboardSaysSo) {
    connect();
    ClipboardOutcome r = take();
    EXPECT_FALSE(r.ok);
    EXPECT_NE(r.error.find("win11's clipboard is empty"), std::string::npos) << r.error;
    EXPECT_EQ(last_call(), "Register") << "nothing asked of QEMU";
    guest_copies("\x89PNG", 1, false); // not text: QEMU would not offer it either
    EXPECT_FALSE(take().ok);
}

TEST_F(DisplayClipboardTest, OfferGrabsWithAHigherSerialAndAnswersTheGuestsPaste) {
    connect();
    guest_copies("old", 7);
    ClipboardOutcome r = offer("from the shell ✓");
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ(last_call(), "Grab 8") << "one above the guest's serial";
    EXPECT_TRUE(display->clipboard_state().offering);
    auto paste = fake->guest_pastes();
    ASSERT_TRUE(runner.run_until([&] { return paste->answered; }));
    EXPECT_EQ(paste->error, "");
    EXPECT_EQ(paste->mime, "text/plain;charset=utf-8");
    EXPECT_EQ(paste->text, "from the shell ✓");
}

TEST_F(DisplayClipboardTest, SerialRulesOlderAndTiedGuestGrabsLoseNewerWin) {
    connect();
    ASSERT_TRUE(offer("ours").ok);
    EXPECT_EQ(last_call(), "Grab 1");
    // QEMU refuses a guest grab at or below our serial (the client wins ties)...
    EXPECT_FALSE(fake->guest_copies("tie", 1));
    EXPECT_TRUE(display->clipboard_state().offering);
    // ...and so do we when one crossed ours on the wire: our offer stands.
    guest_copies("crossed", 1, true, true);
    guest_copies("older", 0, true, true);
    EXPECT_TRUE(display->clipboard_state().offering);
    EXPECT_FALSE(display->clipboard_state().guest_has_text);
    ASSERT_TRUE(offer("ours").ok);
    EXPECT_EQ(last_call(), "Grab 2") << "still above every serial seen";
    // A newer guest copy takes over: our offer is gone, the guest's text can be taken.
    guest_copies("newer", 3);
    EXPECT_FALSE(display->clipboard_state().offering);
    auto paste = fake->guest_pastes();
    ASSERT_TRUE(runner.run_until([&] { return paste->answered; }));
    EXPECT_NE(paste->error, "") << "the guest owns its clipboard again";
    ClipboardOutcome r = take();
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.text, "newer");
    // Our next offer outbids the guest's serial.
    ASSERT_TRUE(offer("again").ok);
    EXPECT_EQ(last_call(), "Grab 4");
}

TEST_F(DisplayClipboardTest, RefusesTooLargeAndNonUtf8Text) {
    connect();
    guest_copies(std::string(100, 'x'), 1);
    ClipboardOutcome r = take(64);
    EXPECT_FALSE(r.ok);
    EXPECT_NE(r.error.find("too large (100 bytes; the limit is 64)"), std::string::npos) << r.error;
    guest_copies("bad \xff\xfe bytes", 2);
    r = take();
    EXPECT_FALSE(r.ok);
    EXPECT_NE(r.error.find("not UTF-8 text"), std::string::npos) << r.error;
    guest_copies(std::string("with a NUL\0inside", 17), 4);
    EXPECT_FALSE(take().ok);
    // A C string's terminating NUL is not part of the text.
    guest_copies(std::string("c string", 9), 5);
    r = take();
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.text, "c string");
}

TEST_F(DisplayClipboardTest, ACopyOfExactlyTheLimitArrivesWholeAndOneByteMoreDoesNot) {
    connect();
    std::string text(1 << 20, 'a');
    for (std::size_t i = 0; i < text.size(); i += 64)
        text[i] = '\n';
    guest_copies(text, 1);
    const auto started = std::chrono::steady_clock::now();
    ClipboardOutcome r = take(1 << 20);
    const auto took = std::chrono::steady_clock::now() - started;
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.text, text);
    std::printf("1 MiB clipboard taken in %.1f ms\n", std::chrono::duration<double, std::milli>(took).count());
    guest_copies(text + "b", 2);
    EXPECT_FALSE(take(1 << 20).ok);
}

TEST_F(DisplayClipboardTest, AMalformedAnswerIsRefusedAndTheConnectionStays) {
    connect();
    guest_copies("text sent as a string", 1);
    fake->set_clipboard_reply_malformed(true);
    ClipboardOutcome r = take();
    EXPECT_FALSE(r.ok);
    // sd-bus itself may turn a reply of the wrong signature into an error; either way it is refused.
    EXPECT_TRUE(r.error.starts_with("win11 sent a malformed clipboard") || r.error.starts_with("win11 refused"))
        << r.error;
    EXPECT_TRUE(display->main_connected());
    fake->set_clipboard_reply_malformed(false);
    r = take();
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.text, "text sent as a string");
}

TEST_F(DisplayClipboardTest, AHungGuestAgentTimesOutWithoutBlocking) {
    connect();
    guest_copies("never arrives", 1);
    fake->set_clipboard_agent_hung(true);
    std::optional<ClipboardOutcome> result;
    const auto started = std::chrono::steady_clock::now();
    display->take_clipboard(1 << 20, [&](ClipboardOutcome r) { result = std::move(r); });
    // The loop keeps turning meanwhile: another call goes through while the Request hangs.
    EXPECT_FALSE(take().ok) << "a second Host+C while the first waits";
    ASSERT_TRUE(runner.run_until([&] { return result.has_value(); }, std::chrono::seconds(10)));
    const auto waited = std::chrono::steady_clock::now() - started;
    EXPECT_FALSE(result->ok);
    EXPECT_NE(result->error.find("did not answer in time"), std::string::npos) << result->error;
    EXPECT_LT(waited, std::chrono::seconds(8));
    EXPECT_GE(waited, std::chrono::microseconds(detail::DisplayClipboard::call_timeout_usec) - std::chrono::seconds(1));
}

TEST_F(DisplayClipboardTest, NothingWorksAfterTheConnectionClosedAndNothingCrashes) {
    connect();
    guest_copies("x", 1);
    fake.reset();
    ASSERT_TRUE(runner.run_until([&] { return !display->main_connected(); }));
    EXPECT_FALSE(take().ok);
    EXPECT_FALSE(offer("y").ok);
    EXPECT_FALSE(display->clipboard_state().registered);
}

} // namespace
} // namespace phyllome::guestview
