// Routing and switching in the in-process compositor core: keys reach the shown guest and only
// it, Host+key chords switch guests or bring the overlay without reaching any guest, modifiers
// held across a switch follow the user, and a guest that goes away hands the screen on.
#include <gtest/gtest.h>

#include <linux/input-event-codes.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <map>

#include "compositor_harness.hpp"
#include "xdg_client.hpp"
#include "tests/display/fake_qemu_display.hpp"

namespace phyllome::test {
namespace {

using namespace std::chrono_literals;
using guestview::testing::FakeQemuDisplay;

constexpr std::int64_t qnum_a = 0x1e, qnum_b = 0x30, qnum_x = 0x2d, qnum_left_shift = 0x2a, qnum_right_ctrl = 0x9d;

bool pressed(const FakeQemuDisplay& peer, std::int64_t qnum) {
    const auto& calls = peer.input_calls();
    return std::any_of(calls.begin(), calls.end(), [&](const auto& c) {
        return c.method == "Keyboard.Press" && !c.args.empty() && c.args[0] == qnum;
    });
}

class Routing : public ::testing::Test {
protected:
    void SetUp() override {
        char tmpl[] = "/tmp/phyllome-routing-XXXXXX";
        ASSERT_NE(mkdtemp(tmpl), nullptr);
        dir = tmpl;
        core = std::make_unique<CompositorHarness>();
        for (const char* name : {"amber", "teal"}) {
            peers[name] = std::make_unique<FakeQemuDisplay>(core->loop(), name,
                                                            std::vector<guestview::testing::FakeConsoleConfig>{{}});
            core->stage().displays().add_manual(name, peers[name]->listen_unix(dir + "/" + name + ".sock"));
        }
        ASSERT_TRUE(core->dispatch_until(
            [&] {
                return core->stage().view("amber") && core->stage().view("teal") && peers["amber"]->listener_connected(0) &&
                       peers["teal"]->listener_connected(0) && !core->stage().shown().empty();
            },
            10s))
            << "both fake guests attach and one comes to the front";
    }
    void TearDown() override {
        peers.clear(); // their event sources live on the core's loop
        core.reset();
        std::system(("rm -rf " + dir).c_str());
    }
    FakeQemuDisplay& shown_peer() { return *peers.at(core->stage().shown()); }
    FakeQemuDisplay& hidden_peer() { return *peers.at(core->stage().shown() == "amber" ? "teal" : "amber"); }
    bool settle_until(const std::function<bool()>& done) { return core->dispatch_until(done, 5s); }

    std::string dir;
    std::unique_ptr<CompositorHarness> core;
    std::map<std::string, std::unique_ptr<FakeQemuDisplay>> peers; // first to go: they live on the core's loop
};

TEST_F(Routing, KeysReachOnlyTheShownGuestAndTheHostKeyNever) {
    const std::string first = core->stage().shown();
    core->tap(KEY_A);
    ASSERT_TRUE(settle_until([&] { return pressed(shown_peer(), qnum_a); }));
    EXPECT_FALSE(pressed(hidden_peer(), qnum_a));

    core->host_chord(KEY_RIGHT);
    ASSERT_NE(core->stage().shown(), first) << "Host+Right shows the other guest";
    core->tap(KEY_B);
    ASSERT_TRUE(settle_until([&] { return pressed(shown_peer(), qnum_b); }));
    EXPECT_FALSE(pressed(hidden_peer(), qnum_b)) << "the guest that left the front got a key";
    core->dispatch(50ms);
    for (auto& [name, peer] : peers) {
        EXPECT_FALSE(pressed(*peer, qnum_right_ctrl)) << name << " got the host key";
        EXPECT_FALSE(pressed(*peer, 0xcd)) << name << " got the Right of Host+Right";
    }
    core->host_chord(KEY_LEFT);
    EXPECT_EQ(core->stage().shown(), first) << "Host+Left goes back";
}

TEST_F(Routing, HostHomeBringsTheOverlayWhichThenTakesTheKeys) {
    core->host_chord(KEY_HOME);
    EXPECT_TRUE(core->overlay_up());
    EXPECT_TRUE(core->stage().shown().empty());
    EXPECT_EQ(core->stage().shown_input(), nullptr);
    core->tap(KEY_X);
    core->dispatch(50ms);
    EXPECT_NE(std::find(core->overlay_keys().begin(), core->overlay_keys().end(), XKB_KEY_x), core->overlay_keys().end());
    for (auto& [name, peer] : peers)
        EXPECT_FALSE(pressed(*peer, qnum_x)) << name << " got a key typed on the overlay";
    // A guest that goes away while the user has the overlay leaves the overlay up.
    peers["amber"]->close_listener(0);
    peers["amber"]->close_main();
    core->dispatch(100ms);
    EXPECT_TRUE(core->stage().shown().empty());
}

TEST_F(Routing, ModifiersHeldAcrossASwitchStayHeldInTheNewGuest) {
    core->key(KEY_LEFTSHIFT, true);
    ASSERT_TRUE(settle_until([&] { return pressed(shown_peer(), qnum_left_shift); }));
    core->host_chord(KEY_RIGHT);
    EXPECT_TRUE(settle_until([&] { return pressed(shown_peer(), qnum_left_shift); }))
        << "the guest brought to the front did not learn that Shift is held";
    core->key(KEY_LEFTSHIFT, false);
}

TEST_F(Routing, AGuestThatGoesAwayHandsTheScreenToTheNextThenToTheOverlay) {
    const std::string first = core->stage().shown();
    const std::string second = first == "amber" ? "teal" : "amber";
    peers[first]->close_listener(0);
    peers[first]->close_main();
    ASSERT_TRUE(settle_until([&] { return core->stage().shown() == second; })) << core->stage().shown();
    ASSERT_FALSE(core->notices().empty());
    EXPECT_NE(core->notices().back().find(first), std::string::npos) << core->notices().back();
    peers[second]->close_listener(0);
    peers[second]->close_main();
    ASSERT_TRUE(settle_until([&] { return core->stage().shown().empty(); }));
    EXPECT_TRUE(core->overlay_up());
}

TEST_F(Routing, HostDigitOfAGuestThatCannotBeShownSaysWhy) {
    // libvirt's test driver has one guest, "test": number 1, running, without a display.
    const std::string before = core->stage().shown();
    core->host_chord(KEY_1);
    EXPECT_EQ(core->stage().shown(), before);
    ASSERT_FALSE(core->notices().empty());
    EXPECT_NE(core->notices().back().find("Cannot show test"), std::string::npos) << core->notices().back();
    core->host_chord(KEY_9);
    EXPECT_EQ(core->notices().back(), "No guest has number 9");
}

TEST_F(Routing, AHostWindowFillsTheOutputAndTakesTheKeysUntilItCloses) {
    const char* display = std::getenv("WAYLAND_DISPLAY");
    ASSERT_NE(display, nullptr) << "the core opened no Wayland socket";
    const std::string guest = core->stage().shown();
    auto window = std::make_unique<XdgClient>(display);
    ASSERT_TRUE(settle_until([&] { return window->failed() || (window->mapped() && window->width() > 0); }));
    ASSERT_FALSE(window->failed()) << "the client could not connect or bind xdg-shell";
    const wlr_output* output = core->outputs().front()->wlr();
    EXPECT_EQ(window->width(), output->width);
    EXPECT_EQ(window->height(), output->height);
    EXPECT_TRUE(window->fullscreen());
    ASSERT_TRUE(settle_until([&] { return window->has_keyboard_focus(); })) << "the window got no keyboard focus";

    core->tap(KEY_A);
    ASSERT_TRUE(settle_until([&] {
        const auto keys = window->keys_pressed();
        return std::find(keys.begin(), keys.end(), std::uint32_t{KEY_A}) != keys.end();
    }));
    core->dispatch(50ms);
    for (auto& [name, peer] : peers)
        EXPECT_FALSE(pressed(*peer, qnum_a)) << name << " got a key typed into a host window";

    // Closed: the keys go back to the guest on screen.
    window.reset();
    ASSERT_TRUE(settle_until([&] { return !core->host_window_shown(); }));
    core->tap(KEY_B);
    EXPECT_TRUE(settle_until([&] { return pressed(*peers.at(guest), qnum_b); }));
}

} // namespace
} // namespace phyllome::test
