// parse(): defaults and every key's accepted values.
#include <gtest/gtest.h>

#include "config/config.hpp"
#include "tests/config/diagnostics_helpers.hpp"

namespace phyllome::config {
namespace {

using test::dump;

TEST(ConfigDefaults, EmptyTextGivesDocumentedDefaultsWithoutDiagnostics) {
    LoadResult result = parse("");
    EXPECT_TRUE(result.diagnostics.empty()) << dump(result);
    EXPECT_FALSE(result.has_errors());
    const Config& config = result.config;
    EXPECT_EQ(config, Config{});
    EXPECT_EQ(config.libvirt_uri, "");
    EXPECT_EQ(config.log_level, LogLevel::Info);
    EXPECT_TRUE(config.outputs.empty());
    EXPECT_EQ(config.keyboard.repeat_rate, 25);
    EXPECT_EQ(config.keyboard.repeat_delay, 600);
    EXPECT_TRUE(config.pointer.tap_to_click);
    EXPECT_FALSE(config.pointer.natural_scroll);
    EXPECT_EQ(config.pointer.accel_profile, "adaptive");
    EXPECT_FALSE(config.security.allow_virtual_input);
    EXPECT_FALSE(config.security.allow_screencopy);
    EXPECT_EQ(config.overlay.font, "Sans");
    EXPECT_EQ(config.overlay.font_size, 14);
    EXPECT_EQ(config.overlay.background, 0x1b1d23u);
    EXPECT_EQ(config.hotkeys.host_key, "Control_R");
    EXPECT_EQ(config.hotkeys.overlay, "Home");
    EXPECT_EQ(config.hotkeys.next, "Right");
    EXPECT_EQ(config.hotkeys.previous, "Left");
    EXPECT_EQ(config.hotkeys.ctrl_alt_delete, "Delete");
    EXPECT_EQ(config.kiosk.guest, "");
    EXPECT_EQ(config.kiosk.on_guest_exit, GuestExitPolicy::Restart);
    EXPECT_EQ(config.kiosk.admin_key, "");
    EXPECT_EQ(config.kiosk.restart_delay_ms, 2000);
    EXPECT_EQ(config.kiosk.restart_delay_max_ms, 60000);
    EXPECT_TRUE(config.identity.banner);
    EXPECT_EQ(config.identity.banner_ms, 1200);
    EXPECT_FALSE(config.identity.edge);
    EXPECT_EQ(config.identity.edge_width, 3);
    EXPECT_EQ(config.lock.command, "swaylock -c 000000");
    EXPECT_EQ(config.lock.key, "l");
    EXPECT_FALSE(config.lock.idle_timeout_s.has_value());
    EXPECT_EQ(config.audio.hidden, "mute");
    EXPECT_EQ(config.audio.mic_key, "m");
    EXPECT_TRUE(config.apps.empty());
}

TEST(ConfigDefaults, EmptySectionsKeepDefaults) {
    LoadResult result = parse("[general]\n[keyboard]\n[pointer]\n[input]\n[overlay]\n[hotkeys]\n[kiosk]\n[identity]\n[lock]\n[output]\n");
    EXPECT_TRUE(result.diagnostics.empty()) << dump(result);
    EXPECT_EQ(result.config, Config{});
}

TEST(ConfigParse, General) {
    LoadResult result = parse(R"(
[general]
libvirt_uri = "qemu:///system"
log_level = "debug"
)");
    EXPECT_TRUE(result.diagnostics.empty()) << dump(result);
    EXPECT_EQ(result.config.libvirt_uri, "qemu:///system");
    EXPECT_EQ(result.config.log_level, LogLevel::Debug);
}

TEST(ConfigParse, EveryLogLevel) {
    for (LogLevel level : {LogLevel::Error, LogLevel::Warning, LogLevel::Info, LogLevel::Debug}) {
        LoadResult result = parse("[general]\nlog_level = \"" + std::string(to_string(level)) + "\"\n");
        EXPECT_TRUE(result.diagnostics.empty()) << dump(result);
        EXPECT_EQ(result.config.log_level, level);
    }
}

TEST(ConfigParse, OutputsByName) {
    LoadResult result = parse(R"(
[output.HEADLESS-1]
enabled = false
mode = "1920x1080@59.94"
position = [1280, -20]
scale = 1.5
transform = "flipped-270"

[output.HDMI-A-1]
mode = "1280x800"
scale = 2
)");
    EXPECT_TRUE(result.diagnostics.empty()) << dump(result);
    ASSERT_EQ(result.config.outputs.size(), 2u);

    const OutputConfig& headless = result.config.outputs.at("HEADLESS-1");
    EXPECT_FALSE(headless.enabled);
    EXPECT_EQ(headless.mode, (Mode{1920, 1080, 59940}));
    EXPECT_EQ(headless.position, (std::pair{1280, -20}));
    EXPECT_DOUBLE_EQ(headless.scale, 1.5);
    EXPECT_EQ(headless.transform, Transform::Flipped270);

    const OutputConfig& hdmi = result.config.outputs.at("HDMI-A-1");
    EXPECT_TRUE(hdmi.enabled);
    EXPECT_EQ(hdmi.mode, (Mode{1280, 800, 0}));
    EXPECT_FALSE(hdmi.position.has_value());
    EXPECT_DOUBLE_EQ(hdmi.scale, 2.0);
    EXPECT_EQ(hdmi.transform, Transform::Normal);
}

TEST(ConfigParse, EveryOutputTransformByItsName) {
    const std::pair<const char*, Transform> names[] = {
        {"normal", Transform::Normal},         {"90", Transform::Rotate90},
        {"180", Transform::Rotate180},         {"270", Transform::Rotate270},
        {"flipped", Transform::Flipped},       {"flipped-90", Transform::Flipped90},
        {"flipped-180", Transform::Flipped180}, {"flipped-270", Transform::Flipped270},
    };
    for (auto [name, transform] : names) {
        LoadResult result = parse(std::string("[output.A]\ntransform = \"") + name + "\"\n");
        EXPECT_TRUE(result.diagnostics.empty()) << name << ": " << dump(result);
        EXPECT_EQ(result.config.outputs.at("A").transform, transform) << name;
        EXPECT_EQ(to_string(transform), name);
    }
}

TEST(ConfigParse, OutputScaleLimitsAreInclusive) {
    LoadResult result = parse("[output.A]\nscale = 0.25\n[output.B]\nscale = 8\n");
    EXPECT_TRUE(result.diagnostics.empty()) << dump(result);
    EXPECT_DOUBLE_EQ(result.config.outputs.at("A").scale, 0.25);
    EXPECT_DOUBLE_EQ(result.config.outputs.at("B").scale, 8.0);
}

TEST(ConfigParse, Keyboard) {
    LoadResult result = parse(R"(
[keyboard]
layout = "de,fr"
variant = "nodeadkeys"
options = "ctrl:nocaps"
model = "pc105"
repeat_rate = 0
repeat_delay = 10000
)");
    EXPECT_TRUE(result.diagnostics.empty()) << dump(result);
    const KeyboardConfig& keyboard = result.config.keyboard;
    EXPECT_EQ(keyboard.layout, "de,fr");
    EXPECT_EQ(keyboard.variant, "nodeadkeys");
    EXPECT_EQ(keyboard.options, "ctrl:nocaps");
    EXPECT_EQ(keyboard.model, "pc105");
    EXPECT_EQ(keyboard.repeat_rate, 0);
    EXPECT_EQ(keyboard.repeat_delay, 10000);
}

TEST(ConfigParse, Pointer) {
    LoadResult result = parse(R"(
[pointer]
tap_to_click = false
natural_scroll = true
left_handed = true
acceleration = -0.5
accel_profile = "flat"
)");
    EXPECT_TRUE(result.diagnostics.empty()) << dump(result);
    const PointerConfig& pointer = result.config.pointer;
    EXPECT_FALSE(pointer.tap_to_click);
    EXPECT_TRUE(pointer.natural_scroll);
    EXPECT_TRUE(pointer.left_handed);
    EXPECT_DOUBLE_EQ(pointer.acceleration, -0.5);
    EXPECT_EQ(pointer.accel_profile, "flat");
}

TEST(ConfigParse, PointerAccelerationAcceptsIntegers) {
    LoadResult result = parse("[pointer]\nacceleration = 1\n");
    EXPECT_TRUE(result.diagnostics.empty()) << dump(result);
    EXPECT_DOUBLE_EQ(result.config.pointer.acceleration, 1.0);
}

TEST(ConfigParse, Security) {
    LoadResult result = parse("[security]\nallow_virtual_input = true\nallow_screencopy = true\n");
    EXPECT_TRUE(result.diagnostics.empty()) << dump(result);
    EXPECT_TRUE(result.config.security.allow_virtual_input);
    EXPECT_TRUE(result.config.security.allow_screencopy);
}

TEST(ConfigParse, InputAllowVirtualInputStillObeyedWithAWarningToMoveIt) {
    LoadResult result = parse("[input]\nallow_virtual_input = true\n");
    EXPECT_TRUE(result.config.security.allow_virtual_input);
    EXPECT_FALSE(result.has_errors()) << dump(result);
    ASSERT_EQ(result.diagnostics.size(), 1u) << dump(result);
    EXPECT_EQ(result.diagnostics[0].severity, Diagnostic::Severity::Warning);
    EXPECT_NE(result.diagnostics[0].message.find("[security]"), std::string::npos) << dump(result);
}

TEST(ConfigParse, Overlay) {
    LoadResult result = parse(R"(
[overlay]
font = "DejaVu Sans"
font_size = 96
background = "#000000"
foreground = "#FFFFFF"
accent = "#12abEF"
error = "#ff0000"
)");
    EXPECT_TRUE(result.diagnostics.empty()) << dump(result);
    const OverlayConfig& overlay = result.config.overlay;
    EXPECT_EQ(overlay.font, "DejaVu Sans");
    EXPECT_EQ(overlay.font_size, 96);
    EXPECT_EQ(overlay.background, 0x000000u);
    EXPECT_EQ(overlay.foreground, 0xffffffu);
    EXPECT_EQ(overlay.accent, 0x12abefu);
    EXPECT_EQ(overlay.error, 0xff0000u);
}

TEST(ConfigParse, Hotkeys) {
    LoadResult result = parse("[hotkeys]\nhost_key = \"Super_L\"\n");
    EXPECT_TRUE(result.diagnostics.empty()) << dump(result);
    EXPECT_EQ(result.config.hotkeys.host_key, "Super_L");
}

TEST(ConfigParse, HotkeyBindings) {
    LoadResult result = parse(R"(
[hotkeys]
overlay = "Escape"
next = "Next"
previous = "Prior"
ctrl_alt_delete = "BackSpace"
)");
    EXPECT_TRUE(result.diagnostics.empty()) << dump(result);
    const HotkeyConfig& hotkeys = result.config.hotkeys;
    EXPECT_EQ(hotkeys.host_key, "Control_R");
    EXPECT_EQ(hotkeys.overlay, "Escape");
    EXPECT_EQ(hotkeys.next, "Next");
    EXPECT_EQ(hotkeys.previous, "Prior");
    EXPECT_EQ(hotkeys.ctrl_alt_delete, "BackSpace");
}

TEST(ConfigParse, Kiosk) {
    LoadResult result = parse(R"(
[kiosk]
guest = "point-of-sale"
on_guest_exit = "overlay"
admin_key = "F12"
restart_delay_ms = 100
restart_delay_max_ms = 3600000
)");
    EXPECT_TRUE(result.diagnostics.empty()) << dump(result);
    const KioskConfig& kiosk = result.config.kiosk;
    EXPECT_EQ(kiosk.guest, "point-of-sale");
    EXPECT_EQ(kiosk.on_guest_exit, GuestExitPolicy::Overlay);
    EXPECT_EQ(kiosk.admin_key, "F12");
    EXPECT_EQ(kiosk.restart_delay_ms, 100);
    EXPECT_EQ(kiosk.restart_delay_max_ms, 3600000);
}

TEST(ConfigParse, EveryGuestExitPolicy) {
    for (GuestExitPolicy policy : {GuestExitPolicy::Restart, GuestExitPolicy::Overlay, GuestExitPolicy::Exit}) {
        LoadResult result = parse("[kiosk]\non_guest_exit = \"" + std::string(to_string(policy)) + "\"\n");
        EXPECT_TRUE(result.diagnostics.empty()) << dump(result);
        EXPECT_EQ(result.config.kiosk.on_guest_exit, policy);
    }
}

TEST(ConfigParse, KioskAdminKeyMayBeEmpty) {
    LoadResult result = parse("[kiosk]\nadmin_key = \"\"\n");
    EXPECT_TRUE(result.diagnostics.empty()) << dump(result);
    EXPECT_EQ(result.config.kiosk.admin_key, "");
}

TEST(ConfigParse, KioskRestartCapMayEqualTheFirstDelay) {
    LoadResult result = parse("[kiosk]\nrestart_delay_ms = 5000\nrestart_delay_max_ms = 5000\n");
    EXPECT_TRUE(result.diagnostics.empty()) << dump(result);
    EXPECT_EQ(result.config.kiosk.restart_delay_ms, 5000);
    EXPECT_EQ(result.config.kiosk.restart_delay_max_ms, 5000);
}

TEST(ConfigParse, KioskFirstDelayAboveTheDefaultCapRaisesTheCap) {
    // Not an error: the user did not write a cap, so the delay simply never doubles.
    LoadResult result = parse("[kiosk]\nrestart_delay_ms = 120000\n");
    EXPECT_TRUE(result.diagnostics.empty()) << dump(result);
    EXPECT_EQ(result.config.kiosk.restart_delay_ms, 120000);
    EXPECT_EQ(result.config.kiosk.restart_delay_max_ms, 120000);
}

TEST(ConfigParse, Identity) {
    LoadResult result = parse(R"(
[identity]
banner = false
banner_ms = 0
edge = true
edge_width = 32
)");
    EXPECT_TRUE(result.diagnostics.empty()) << dump(result);
    const IdentityConfig& identity = result.config.identity;
    EXPECT_FALSE(identity.banner);
    EXPECT_EQ(identity.banner_ms, 0);
    EXPECT_TRUE(identity.edge);
    EXPECT_EQ(identity.edge_width, 32);
}

TEST(ConfigParse, AudioHiddenGuestsMayPlay) {
    LoadResult result = parse("[audio]\nhidden = \"play\"\n");
    EXPECT_TRUE(result.diagnostics.empty()) << dump(result);
    EXPECT_EQ(result.config.audio.hidden, "play");
}

TEST(ConfigParse, IdentityUpperAndLowerLimits) {
    LoadResult result = parse("[identity]\nbanner_ms = 10000\nedge_width = 1\n");
    EXPECT_TRUE(result.diagnostics.empty()) << dump(result);
    EXPECT_EQ(result.config.identity.banner_ms, 10000);
    EXPECT_EQ(result.config.identity.edge_width, 1);
}

TEST(ConfigParse, Lock) {
    LoadResult result = parse(R"(
[lock]
command = "my-locker --now"
key = "Escape"
idle_timeout_s = 86400
)");
    EXPECT_TRUE(result.diagnostics.empty()) << dump(result);
    const LockConfig& lock = result.config.lock;
    EXPECT_EQ(lock.command, "my-locker --now");
    EXPECT_EQ(lock.key, "Escape");
    EXPECT_EQ(lock.idle_timeout_s, 86400);
    EXPECT_EQ(lock.effective_idle_timeout_s(true), 86400); // set explicitly: kiosk mode too
}

TEST(ConfigParse, LockIdleTimeoutDefaultsToTenMinutesButOffInKioskMode) {
    LoadResult unset = parse("[lock]\nkey = \"\"\n");
    EXPECT_TRUE(unset.diagnostics.empty()) << dump(unset);
    EXPECT_EQ(unset.config.lock.key, "");
    EXPECT_EQ(unset.config.lock.effective_idle_timeout_s(false), 600);
    EXPECT_EQ(unset.config.lock.effective_idle_timeout_s(true), 0);
    LoadResult off = parse("[lock]\nidle_timeout_s = 0\n");
    EXPECT_TRUE(off.diagnostics.empty()) << dump(off);
    EXPECT_EQ(off.config.lock.effective_idle_timeout_s(false), 0);
}

TEST(ConfigParse, AppsKeepFileOrder) {
    LoadResult result = parse(R"(
[[app]]
name = "Terminal"
command = "foot"

[[app]]
name = "Virtual Machine Manager"
command = "virt-manager --connect qemu:///system"
)");
    EXPECT_TRUE(result.diagnostics.empty()) << dump(result);
    std::vector<App> expected{{"Terminal", "foot"},
                              {"Virtual Machine Manager", "virt-manager --connect qemu:///system"}};
    EXPECT_EQ(result.config.apps, expected);
}

TEST(ConfigParse, AppsAsInlineTables) {
    LoadResult result = parse("app = [{ name = \"Terminal\", command = \"foot\" }]\n");
    EXPECT_TRUE(result.diagnostics.empty()) << dump(result);
    EXPECT_EQ(result.config.apps, (std::vector<App>{{"Terminal", "foot"}}));
}

TEST(ConfigParse, EmptyAppListIsFine) {
    LoadResult result = parse("app = []\n");
    EXPECT_TRUE(result.diagnostics.empty()) << dump(result);
    EXPECT_TRUE(result.config.apps.empty());
}

} // namespace
} // namespace phyllome::config
