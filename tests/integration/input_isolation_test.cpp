// Input goes to the shown guest and nowhere else: two fake QEMU displays, keys through wtype and
// pointer motion, buttons and wheel through a virtual pointer. The host's hotkeys stay the
// shell's while the guest holds the pointer (relative mode, a button held). The virtual input
// protocols exist only when the config asks for them (wtype's side of that is
// Shell.VirtualInputIsOffByDefault in overlay_test.cpp; this adds the pointer and the registry).
#include <gtest/gtest.h>

#include <linux/input-event-codes.h>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "loop_pump.hpp"
#include "fake_display_session.hpp"
#include "two_fake_guests_fixture.hpp"
#include "virtual_pointer.hpp"

namespace phyllome::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// QEMU's InputButton numbers (org.qemu.Display1.Mouse.Press/Release).
constexpr std::int64_t qemu_left = 0, qemu_wheel_up = 3, qemu_wheel_down = 4, qemu_wheel_right = 8;
// QEMU key numbers: 'b', Right, Left, Home, Right Ctrl.
constexpr std::int64_t q_b = 0x30, q_right = 0xcd, q_left = 0xcb, q_home = 0xc7, q_ctrl_r = 0x9d;

class InputIsolation : public TwoFakeGuestsTest {
protected:
    void SetUp() override {
        if (!have_program("wtype"))
            GTEST_SKIP() << "wtype is not installed";
        // A picture each: absolute positions are guest pixels, so they need a frame to map onto.
        ASSERT_NO_FATAL_FAILURE(start_with_two_guests("input", 0xc08020, 0x208080));
        shown_ = shown_guest();
        ASSERT_TRUE(shown_ == "amber" || shown_ == "teal");
        hidden_ = shown_ == "amber" ? "teal" : "amber";
        pointer_ = std::make_unique<VirtualPointer>(runtime_dir_of(*shell_));
        ASSERT_TRUE(pointer_->ok()) << "no virtual pointer manager although allow_virtual_input = true";
    }
    void TearDown() override {
        pointer_.reset();
        TwoFakeGuestsTest::TearDown();
    }

    std::unique_ptr<VirtualPointer> pointer_;
    std::string shown_, hidden_;
};

TEST_F(InputIsolation, PointerAndKeysReachOnlyTheShownGuest) {
    // Both directions: the first shown guest, then the other one after a switch.
    for (int round = 0; round < 2; ++round) {
        SCOPED_TRACE("round " + std::to_string(round) + ": " + shown_ + " shown");
        settle();
        const std::size_t shown_from = calls(shown_).size(), hidden_from = calls(hidden_).size();

        // Relative mode (the fake's default, and restored after round 0): motion is RelMotion.
        // Polled, because a mode change reaches the shell as an asynchronous property change.
        EXPECT_TRUE(pump_until(
            [&] {
                pointer_->motion(7, 5);
                pump(10ms);
                return has(input_since(calls(shown_), shown_from), "Mouse.RelMotion");
            },
            5s));
        pointer_->button(BTN_LEFT, true);
        pointer_->button(BTN_LEFT, false);
        pointer_->wheel(true, 1);
        pointer_->wheel(true, -1);
        pointer_->wheel(false, 1);
        ASSERT_EQ(shell_->wtype({"b"}).exit_code, 0);
        // The guest switches its pointer to absolute mode (a tablet): positions instead of motion.
        peers_.at(shown_)->set_mouse_absolute(0, true);
        EXPECT_TRUE(pump_until(
            [&] {
                pointer_->motion(2, 1);
                pump(10ms);
                return has(input_since(calls(shown_), shown_from), "Mouse.SetAbsPosition");
            },
            5s));
        settle();

        const auto got = input_since(calls(shown_), shown_from);
        EXPECT_TRUE(has(got, "Mouse.RelMotion")) << describe(got);
        EXPECT_TRUE(has(got, "Mouse.Press", qemu_left)) << describe(got);
        EXPECT_TRUE(has(got, "Mouse.Release", qemu_left)) << describe(got);
        EXPECT_TRUE(has(got, "Mouse.Press", qemu_wheel_down)) << describe(got);
        EXPECT_TRUE(has(got, "Mouse.Press", qemu_wheel_up)) << describe(got);
        EXPECT_TRUE(has(got, "Mouse.Press", qemu_wheel_right)) << describe(got);
        EXPECT_TRUE(has(got, "Keyboard.Press", q_b)) << describe(got);
        EXPECT_TRUE(has(got, "Keyboard.Release", q_b)) << describe(got);
        EXPECT_TRUE(has(got, "Mouse.SetAbsPosition")) << describe(got);
        const auto leaked = input_since(calls(hidden_), hidden_from);
        EXPECT_TRUE(leaked.empty()) << "the hidden guest " << hidden_ << " got: " << describe(leaked);
        peers_.at(shown_)->set_mouse_absolute(0, false);

        if (round == 0) {
            auto r = shell_->ctl({"next"});
            ASSERT_EQ(r.exit_code, 0) << r.err;
            ASSERT_TRUE(pump_until([&] { return shown_guest() == hidden_; }, 5s)) << shell_->status_json();
            std::swap(shown_, hidden_);
        }
    }
}

TEST_F(InputIsolation, HotkeysStayTheShellsWhileTheGuestHoldsThePointer) {
    // Relative mode (IsAbsolute false, the fake's default) is QEMU's pointer grab; the guest
    // also has a button held (a drag) when the host key goes down.
    settle();
    const std::string first = shown_, second = hidden_;
    const std::size_t first_from = calls(first).size(), second_from = calls(second).size();
    pointer_->motion(5, 5);
    pointer_->button(BTN_LEFT, true);
    settle();
    ASSERT_TRUE(has(input_since(calls(first), first_from), "Mouse.Press", qemu_left));

    host("Right");
    ASSERT_TRUE(pump_until([&] { return shown_guest() == second; }, 5s)) << "Host+Right did not switch";
    settle();
    // The guest left behind is not left with the button down.
    EXPECT_TRUE(has(input_since(calls(first), first_from), "Mouse.Release", qemu_left))
        << describe(input_since(calls(first), first_from));
    pointer_->button(BTN_LEFT, false);

    host("Left");
    ASSERT_TRUE(pump_until([&] { return shown_guest() == first; }, 5s)) << "Host+Left did not switch back";
    pointer_->motion(3, 3); // grabbed again
    host("Home");
    ASSERT_TRUE(pump_until([&] { return shell_->status_json().find(R"("view": "overlay")") != std::string::npos; }, 5s))
        << "Host+Home did not show the overlay";
    settle();

    // Neither guest ever saw the host key or the keys it combined with.
    for (const auto& [guest, from] : {std::pair{first, first_from}, std::pair{second, second_from}}) {
        const auto got = input_since(calls(guest), from);
        for (std::int64_t key : {q_ctrl_r, q_right, q_left, q_home})
            EXPECT_FALSE(has(got, "Keyboard.Press", key)) << guest << " got key " << key << ": " << describe(got);
    }
}

TEST(VirtualInput, ProtocolsOnlyWhenTheConfigAllowsThem) {
    for (bool allowed : {false, true}) {
        SCOPED_TRACE(allowed ? "allow_virtual_input = true" : "default config");
        ShellProcess::Options o;
        if (allowed)
            o.config_toml += "[security]\nallow_virtual_input = true\n";
        ShellProcess shell(o);
        ASSERT_TRUE(shell.started()) << shell.log();
        const auto globals = wayland_globals(runtime_dir_of(shell));
        ASSERT_TRUE(globals.count("wl_seat")) << "no registry read";
        EXPECT_EQ(globals.count("zwp_virtual_keyboard_manager_v1"), allowed ? 1u : 0u);
        EXPECT_EQ(globals.count("zwlr_virtual_pointer_manager_v1"), allowed ? 1u : 0u);
        EXPECT_EQ(VirtualPointer(runtime_dir_of(shell)).ok(), allowed);
    }
}

// Who may watch: wlr-screencopy is hidden from every client unless [security] allows it, and a
// reload that allows it applies to the next client.
TEST(ScreenCopy, RefusedUnlessTheConfigAllowsItAndAReloadAppliesToNewClients) {
    if (!have_program("grim"))
        GTEST_SKIP() << "grim is not installed";
    ShellProcess::Options o;
    o.allow_screencopy = false;
    ShellProcess shell(o);
    ASSERT_TRUE(shell.started()) << shell.log();
    auto globals = wayland_globals(runtime_dir_of(shell));
    ASSERT_TRUE(globals.count("wl_seat")) << "no registry read";
    EXPECT_EQ(globals.count("zwlr_screencopy_manager_v1"), 0u);
    const CommandResult refused = run_command({"grim", "-t", "ppm", "-"}, shell.client_env());
    EXPECT_NE(refused.exit_code, 0) << "grim captured the screen although screencopy is not allowed";
    EXPECT_TRUE(refused.out.empty()) << refused.out.size() << " bytes of picture came out";

    std::ofstream(shell.config_path()) << o.config_toml << "[security]\nallow_screencopy = true\n";
    shell.send_signal(SIGHUP);
    ASSERT_TRUE(shell.wait_for_status("Config reloaded", 10s)) << shell.log();
    globals = wayland_globals(runtime_dir_of(shell));
    EXPECT_EQ(globals.count("zwlr_screencopy_manager_v1"), 1u);
    const auto shot = shell.screenshot();
    ASSERT_TRUE(shot) << "grim failed after the reload allowed screencopy";
    EXPECT_EQ(shot->width, 1280);
}

} // namespace
} // namespace phyllome::test
