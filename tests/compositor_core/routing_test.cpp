// Routing and switching in the in-process compositor core: keys reach the shown guest and only
// it, Host+key chords switch guests or bring the overlay without reaching any guest, modifiers
// held across a switch follow the user, and a guest that goes away hands the screen on.
#include <gtest/gtest.h>

#include <linux/input-event-codes.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <map>

#include "compositor/seat.hpp"
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

bool got_key(const XdgClient& window, std::uint32_t key) {
    const auto keys = window.keys_pressed();
    return std::find(keys.begin(), keys.end(), key) != keys.end();
}

// A window waits to be switched to like a guest (Host+→), then fills the output and takes the
// keys; closing it returns to the guest the user came from.
TEST_F(Routing, AHostWindowIsSwitchedToLikeAGuestAndClosingItReturnsToTheGuest) {
    const char* display = std::getenv("WAYLAND_DISPLAY");
    ASSERT_NE(display, nullptr) << "the core opened no Wayland socket";
    auto window = std::make_unique<XdgClient>(display);
    ASSERT_TRUE(settle_until([&] { return window->failed() || (window->mapped() && window->width() > 0); }));
    ASSERT_FALSE(window->failed()) << "the client could not connect or bind xdg-shell";
    ASSERT_TRUE(settle_until([&] { return !core->windows().mapped().empty(); }));
    EXPECT_FALSE(core->host_window_shown()) << "a window came to the front by itself";
    EXPECT_FALSE(window->has_keyboard_focus());
    ASSERT_FALSE(core->notices().empty());
    EXPECT_NE(core->notices().back().find("opened a window"), std::string::npos) << core->notices().back();
    core->tap(KEY_A);
    ASSERT_TRUE(settle_until([&] { return pressed(shown_peer(), qnum_a); })) << "the guest lost the keys to a new window";
    EXPECT_FALSE(got_key(*window, KEY_A));

    // Guests first, then windows: Host+→ from the first guest reaches the window in two steps.
    core->host_chord(KEY_RIGHT);
    const std::string came_from = core->stage().shown();
    ASSERT_FALSE(came_from.empty());
    core->host_chord(KEY_RIGHT);
    ASSERT_TRUE(core->host_window_shown()) << "Host+Right did not reach the window";
    EXPECT_TRUE(core->stage().shown().empty());
    ASSERT_TRUE(settle_until([&] { return window->has_keyboard_focus(); })) << "the window got no keyboard focus";
    const wlr_output* output = core->outputs().front()->wlr();
    EXPECT_EQ(window->width(), output->width);
    EXPECT_EQ(window->height(), output->height);
    EXPECT_TRUE(window->fullscreen());
    core->tap(KEY_X);
    ASSERT_TRUE(settle_until([&] { return got_key(*window, KEY_X); }));
    core->dispatch(50ms);
    for (auto& [name, peer] : peers)
        EXPECT_FALSE(pressed(*peer, qnum_x)) << name << " got a key typed into a host window";

    // Closed: back to the guest it was switched to from, which gets the keys again.
    window.reset();
    ASSERT_TRUE(settle_until([&] { return !core->host_window_shown() && core->stage().shown() == came_from; }));
    core->tap(KEY_B);
    EXPECT_TRUE(settle_until([&] { return pressed(*peers.at(came_from), qnum_b); }));
}

// The secure attention key: a window that keeps asking for the screen loses it and the keys on
// Host+Home, and gets neither back until the user switches to it.
TEST_F(Routing, NoWindowKeepsTheScreenOrTheKeysAfterHostHome) {
    const char* display = std::getenv("WAYLAND_DISPLAY");
    ASSERT_NE(display, nullptr);
    auto window = std::make_unique<XdgClient>(display, XdgClient::Options{0xd02090, true});
    ASSERT_TRUE(settle_until([&] { return !core->windows().mapped().empty(); }));
    const int number = core->stage().window_number(*core->windows().mapped().front());
    ASSERT_GT(number, 0);
    core->host_chord(KEY_1 + number - 1);
    ASSERT_TRUE(core->host_window_shown()) << "Host+" << number << " did not show the window";
    ASSERT_TRUE(settle_until([&] { return window->has_keyboard_focus(); }));

    core->host_chord(KEY_HOME);
    EXPECT_TRUE(core->overlay_up());
    EXPECT_TRUE(core->overlay_drawn());
    EXPECT_FALSE(core->host_window_shown());
    ASSERT_TRUE(settle_until([&] { return !window->has_keyboard_focus(); })) << "the window kept the keyboard";
    const auto overlay_keys_before = core->overlay_keys().size();
    core->tap(KEY_X);
    // It keeps asking to be fullscreen and retitling itself all the while.
    core->dispatch(300ms);
    EXPECT_FALSE(got_key(*window, KEY_X)) << "a window behind the overlay got a key";
    EXPECT_EQ(core->overlay_keys().size(), overlay_keys_before + 1) << "the overlay did not get the key";
    EXPECT_TRUE(core->overlay_up());
    EXPECT_FALSE(core->host_window_shown());
    EXPECT_FALSE(window->has_keyboard_focus());
    for (auto& [name, peer] : peers)
        EXPECT_FALSE(pressed(*peer, qnum_x)) << name << " got a key meant for the overlay";
}

// Ctrl+Alt+Fn is a VT switch only where the shell allows it (not in a locked kiosk): there it is
// the guest's own Ctrl+Alt+Fn.
TEST_F(Routing, CtrlAltFnReachesNoGuestWhileVtSwitchingIsAllowed) {
    core->key(KEY_LEFTCTRL, true);
    core->key(KEY_LEFTALT, true);
    core->tap(KEY_F2);
    core->key(KEY_LEFTALT, false);
    core->key(KEY_LEFTCTRL, false);
    core->tap(KEY_A);
    ASSERT_TRUE(settle_until([&] { return pressed(shown_peer(), qnum_a); }));
    EXPECT_FALSE(pressed(shown_peer(), 0x3c)) << "F2 of a VT switch reached the guest";
    core->allow_vt_switch(false);
    core->key(KEY_LEFTCTRL, true);
    core->key(KEY_LEFTALT, true);
    core->tap(KEY_F2);
    core->key(KEY_LEFTALT, false);
    core->key(KEY_LEFTCTRL, false);
    EXPECT_TRUE(settle_until([&] { return pressed(shown_peer(), 0x3c); })) << "the guest did not get Ctrl+Alt+F2";
}

// Lock keys, both ways: a guest that sets its own LEDs moves the host's lock state (and so the
// keyboard's lights) with it, a hidden guest's LEDs move nothing, and a guest coming to the
// front takes the host's Caps, Num and Scroll Lock.
TEST_F(Routing, TheShownGuestsLedsMoveTheHostsLocksAndAHiddenGuestsDoNot) {
    using guestview::led_caps_lock, guestview::led_num_lock, guestview::led_scroll_lock;
    ASSERT_EQ(core->seat().host_locks(), compositor::LockKeys{});
    core->tap(KEY_A); // the keyboard becomes the seat's
    shown_peer().set_modifiers(0, led_num_lock | led_scroll_lock);
    ASSERT_TRUE(settle_until([&] { return core->seat().host_locks() == compositor::LockKeys{false, true, true}; }))
        << "the host's Num and Scroll Lock did not follow the guest's LEDs";
    hidden_peer().set_modifiers(0, led_caps_lock);
    core->dispatch(200ms);
    EXPECT_EQ(core->seat().host_locks(), (compositor::LockKeys{false, true, true})) << "a hidden guest moved the host's locks";
    shown_peer().set_modifiers(0, led_caps_lock);
    EXPECT_TRUE(settle_until([&] { return core->seat().host_locks() == compositor::LockKeys{true, false, false}; }));
}

TEST_F(Routing, AGuestComingToTheFrontTakesTheHostsLockKeys) {
    constexpr std::int64_t qnum_caps_lock = 0x3a, qnum_scroll_lock = 0x46, qnum_num_lock = 0x45;
    core->host_chord(KEY_HOME);
    ASSERT_TRUE(settle_until([&] { return core->stage().shown().empty(); }));
    core->tap(KEY_CAPSLOCK); // on the overlay: the host's alone
    core->tap(KEY_SCROLLLOCK);
    ASSERT_EQ(core->seat().host_locks(), (compositor::LockKeys{true, false, true}));
    core->host_chord(KEY_RIGHT);
    ASSERT_TRUE(settle_until([&] { return !core->stage().shown().empty(); }));
    EXPECT_TRUE(settle_until([&] { return pressed(shown_peer(), qnum_caps_lock) && pressed(shown_peer(), qnum_scroll_lock); }))
        << "the guest was not told the host's Caps and Scroll Lock";
    EXPECT_FALSE(pressed(shown_peer(), qnum_num_lock)) << "Num Lock was off on both sides";
}

} // namespace
} // namespace phyllome::test
