// parse(): syntax errors, bad values and unknown keys, each with its key and position.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/config.hpp"
#include "tests/config/diagnostics_helpers.hpp"

namespace phyllome::config {
namespace {

using test::dump;
using test::errors;
using test::warnings;
using ::testing::HasSubstr;

TEST(ConfigSyntaxError, GivesDefaultsAndOneErrorWithPosition) {
    LoadResult result = parse("[keyboard]\nrepeat_rate = 50\nlayout = \"us\n[pointer]\n", "shell.toml");
    EXPECT_EQ(result.config, Config{}); // repeat_rate = 50 before the error is not applied
    ASSERT_EQ(result.diagnostics.size(), 1u) << dump(result);
    const Diagnostic& error = result.diagnostics[0];
    EXPECT_EQ(error.severity, Diagnostic::Severity::Error);
    EXPECT_EQ(error.source, "shell.toml");
    EXPECT_EQ(error.line, 3);
    EXPECT_GT(error.column, 0);
    EXPECT_EQ(error.key, "");
    EXPECT_THAT(error.message, HasSubstr("not valid TOML"));
    EXPECT_TRUE(result.has_errors());
}

TEST(ConfigSyntaxError, DuplicateKeyIsASyntaxError) {
    LoadResult result = parse("[general]\nlog_level = \"debug\"\nlog_level = \"error\"\n");
    ASSERT_EQ(result.diagnostics.size(), 1u) << dump(result);
    EXPECT_EQ(result.diagnostics[0].line, 3);
    EXPECT_EQ(result.config.log_level, LogLevel::Info);
}

// One bad value: `section` is the table header line, `assignment` the key line under it.
struct BadValue {
    std::string section;
    std::string assignment;
    std::string key;
    std::string message;
};

void PrintTo(const BadValue& bad, std::ostream* out) { *out << bad.section << " " << bad.assignment; }

class ConfigBadValue : public ::testing::TestWithParam<BadValue> {};

TEST_P(ConfigBadValue, IsAnErrorAtTheValueAndKeepsTheDefault) {
    const BadValue& bad = GetParam();
    // The bad value sits on line 3, after a comment and the header.
    std::string text = "# settings\n" + bad.section + "\n" + bad.assignment + "\n";
    LoadResult result = parse(text, "test.toml");

    ASSERT_EQ(result.diagnostics.size(), 1u) << dump(result);
    const Diagnostic& error = result.diagnostics[0];
    EXPECT_EQ(error.severity, Diagnostic::Severity::Error);
    EXPECT_EQ(error.key, bad.key);
    EXPECT_EQ(error.source, "test.toml");
    EXPECT_EQ(error.line, 3);
    std::size_t value_start = bad.assignment.find_first_not_of(' ', bad.assignment.find('=') + 1);
    EXPECT_EQ(error.column, static_cast<int>(value_start) + 1);
    EXPECT_THAT(error.message, HasSubstr(bad.message));

    Config expected;
    if (bad.section.starts_with("[output."))
        expected.outputs["HEADLESS-1"] = OutputConfig{};
    EXPECT_EQ(result.config, expected);
}

const std::string mode_expectation = "expected a mode like \"1920x1080\" or \"1920x1080@60\"";

INSTANTIATE_TEST_SUITE_P(
    EveryKey, ConfigBadValue,
    ::testing::Values(
        BadValue{"[general]", "libvirt_uri = 5", "general.libvirt_uri", "must be a string, got 5"},
        BadValue{"[general]", "log_level = \"verbose\"", "general.log_level",
                 "must be one of \"error\", \"warning\", \"info\" or \"debug\", got \"verbose\""},
        BadValue{"[output.HEADLESS-1]", "enabled = \"yes\"", "output.HEADLESS-1.enabled",
                 "must be true or false, got \"yes\""},
        BadValue{"[output.HEADLESS-1]", "mode = \"big\"", "output.HEADLESS-1.mode", mode_expectation},
        BadValue{"[output.HEADLESS-1]", "mode = \"1920x1080@\"", "output.HEADLESS-1.mode", mode_expectation},
        BadValue{"[output.HEADLESS-1]", "mode = 1080", "output.HEADLESS-1.mode", mode_expectation},
        BadValue{"[output.HEADLESS-1]", "position = [1, 2, 3]", "output.HEADLESS-1.position",
                 "must be an array of two integers [x, y], got an array of 3 values"},
        BadValue{"[output.HEADLESS-1]", "position = [0.5, 2]", "output.HEADLESS-1.position",
                 "must be an array of two integers [x, y]"},
        BadValue{"[output.HEADLESS-1]", "position = \"0,0\"", "output.HEADLESS-1.position",
                 "must be an array of two integers [x, y]"},
        BadValue{"[output.HEADLESS-1]", "scale = 0.2", "output.HEADLESS-1.scale",
                 "must be a number from 0.25 to 8, got 0.2"},
        BadValue{"[output.HEADLESS-1]", "scale = 9", "output.HEADLESS-1.scale", "must be a number from 0.25 to 8"},
        BadValue{"[output.HEADLESS-1]", "scale = nan", "output.HEADLESS-1.scale", "must be a number from 0.25 to 8"},
        BadValue{"[output.HEADLESS-1]", "transform = 90", "output.HEADLESS-1.transform",
                 "must be one of \"normal\", \"90\", \"180\", \"270\", \"flipped\", \"flipped-90\", "
                 "\"flipped-180\" or \"flipped-270\" (degrees counter-clockwise), got 90"},
        BadValue{"[output.HEADLESS-1]", "transform = \"rotate-90\"", "output.HEADLESS-1.transform",
                 "must be one of \"normal\""},
        BadValue{"[keyboard]", "layout = [\"us\"]", "keyboard.layout", "must be a string, got an array of 1 value"},
        BadValue{"[keyboard]", "variant = true", "keyboard.variant", "must be a string, got true"},
        BadValue{"[keyboard]", "options = 1", "keyboard.options", "must be a string"},
        BadValue{"[keyboard]", "model = 1.0", "keyboard.model", "must be a string"},
        BadValue{"[keyboard]", "repeat_rate = 1001", "keyboard.repeat_rate",
                 "must be an integer from 0 to 1000, got 1001"},
        BadValue{"[keyboard]", "repeat_rate = -1", "keyboard.repeat_rate", "must be an integer from 0 to 1000"},
        BadValue{"[keyboard]", "repeat_rate = 25.0", "keyboard.repeat_rate", "must be an integer from 0 to 1000"},
        BadValue{"[keyboard]", "repeat_delay = 0", "keyboard.repeat_delay",
                 "must be an integer from 1 to 10000, got 0"},
        BadValue{"[keyboard]", "repeat_delay = 99999999999", "keyboard.repeat_delay",
                 "must be an integer from 1 to 10000"},
        BadValue{"[pointer]", "tap_to_click = 1", "pointer.tap_to_click", "must be true or false, got 1"},
        BadValue{"[pointer]", "natural_scroll = \"true\"", "pointer.natural_scroll", "must be true or false"},
        BadValue{"[pointer]", "left_handed = []", "pointer.left_handed", "must be true or false"},
        BadValue{"[pointer]", "acceleration = 1.5", "pointer.acceleration", "must be a number from -1 to 1, got 1.5"},
        BadValue{"[pointer]", "acceleration = -2", "pointer.acceleration", "must be a number from -1 to 1"},
        BadValue{"[pointer]", "accel_profile = \"linear\"", "pointer.accel_profile",
                 "must be one of \"adaptive\" or \"flat\", got \"linear\""},
        BadValue{"[input]", "allow_virtual_input = \"no\"", "input.allow_virtual_input", "must be true or false"},
        BadValue{"[security]", "allow_virtual_input = \"no\"", "security.allow_virtual_input", "must be true or false"},
        BadValue{"[security]", "allow_screencopy = 1", "security.allow_screencopy", "must be true or false"},
        BadValue{"[overlay]", "font = \"\"", "overlay.font", "must be a non-empty string"},
        BadValue{"[overlay]", "font_size = 5", "overlay.font_size", "must be an integer from 6 to 96, got 5"},
        BadValue{"[overlay]", "font_size = 97", "overlay.font_size", "must be an integer from 6 to 96"},
        BadValue{"[overlay]", "background = \"#12345\"", "overlay.background", "must be a colour like \"#4f9dde\""},
        BadValue{"[overlay]", "foreground = \"ffffff\"", "overlay.foreground", "must be a colour like"},
        BadValue{"[overlay]", "accent = \"#gggggg\"", "overlay.accent", "must be a colour like"},
        BadValue{"[overlay]", "error = 0xff0000", "overlay.error", "must be a colour like"},
        BadValue{"[hotkeys]", "host_key = \"\"", "hotkeys.host_key", "must be an xkb keysym name"},
        BadValue{"[hotkeys]", "host_key = \"Control R\"", "hotkeys.host_key", "must be an xkb keysym name"},
        BadValue{"[hotkeys]", "host_key = 37", "hotkeys.host_key", "must be an xkb keysym name"},
        BadValue{"[hotkeys]", "overlay = \"\"", "hotkeys.overlay", "must be an xkb keysym name"},
        BadValue{"[hotkeys]", "next = \"Page Down\"", "hotkeys.next", "must be an xkb keysym name"},
        BadValue{"[hotkeys]", "previous = \"Left+\"", "hotkeys.previous", "must be an xkb keysym name"},
        BadValue{"[hotkeys]", "ctrl_alt_delete = true", "hotkeys.ctrl_alt_delete",
                 "must be an xkb keysym name such as \"Control_R\" (letters, digits and '_'), got true"},
        BadValue{"[kiosk]", "guest = 3", "kiosk.guest", "must be a string, got 3"},
        BadValue{"[kiosk]", "on_guest_exit = \"reboot\"", "kiosk.on_guest_exit",
                 "must be one of \"restart\" (start the guest again), \"overlay\" (show the overlay) "
                 "or \"exit\" (end the session), got \"reboot\""},
        BadValue{"[kiosk]", "on_guest_exit = 1", "kiosk.on_guest_exit", "must be one of \"restart\""},
        BadValue{"[kiosk]", "admin_key = \"Control R\"", "kiosk.admin_key",
                 "must be an xkb keysym name such as \"Escape\" (letters, digits and '_'), or \"\" for none"},
        BadValue{"[kiosk]", "admin_key = false", "kiosk.admin_key", "must be an xkb keysym name"},
        BadValue{"[kiosk]", "restart_delay_ms = 99", "kiosk.restart_delay_ms",
                 "must be an integer from 100 to 3600000, got 99"},
        BadValue{"[kiosk]", "restart_delay_ms = 3600001", "kiosk.restart_delay_ms",
                 "must be an integer from 100 to 3600000"},
        BadValue{"[kiosk]", "restart_delay_ms = \"2s\"", "kiosk.restart_delay_ms",
                 "must be an integer from 100 to 3600000"},
        BadValue{"[kiosk]", "restart_delay_max_ms = 0", "kiosk.restart_delay_max_ms",
                 "must be an integer from 100 to 3600000, got 0"},
        BadValue{"[kiosk]", "restart_delay_max_ms = 3600001", "kiosk.restart_delay_max_ms",
                 "must be an integer from 100 to 3600000"},
        BadValue{"[kiosk]", "restart_delay_max_ms = 1999", "kiosk.restart_delay_max_ms",
                 "must be at least restart_delay_ms (2000), got 1999"},
        BadValue{"[identity]", "banner = \"yes\"", "identity.banner", "must be true or false"},
        BadValue{"[identity]", "banner_ms = -1", "identity.banner_ms", "must be an integer from 0 to 10000, got -1"},
        BadValue{"[identity]", "banner_ms = 10001", "identity.banner_ms", "must be an integer from 0 to 10000"},
        BadValue{"[identity]", "edge = 0", "identity.edge", "must be true or false, got 0"},
        BadValue{"[identity]", "edge_width = 0", "identity.edge_width", "must be an integer from 1 to 32, got 0"},
        BadValue{"[identity]", "edge_width = 33", "identity.edge_width", "must be an integer from 1 to 32"},
        BadValue{"[identity]", "edge_width = 2.5", "identity.edge_width", "must be an integer from 1 to 32"},
        BadValue{"[clipboard]", "max_bytes = 0", "clipboard.max_bytes", "must be an integer from 1 to 16777216, got 0"},
        BadValue{"[clipboard]", "max_bytes = 16777217", "clipboard.max_bytes", "must be an integer from 1 to 16777216"},
        BadValue{"[security]", "allow_data_control = 1", "security.allow_data_control", "must be true or false"},
        BadValue{"[hotkeys]", "copy = \"Control R\"", "hotkeys.copy", "must be an xkb keysym name"},
        BadValue{"[lock]", "command = \"\"", "lock.command", "must be a non-empty string"},
        BadValue{"[lock]", "command = 1", "lock.command", "must be a non-empty string"},
        BadValue{"[lock]", "key = \"Super L\"", "lock.key", "must be an xkb keysym name"},
        BadValue{"[lock]", "idle_timeout_s = -1", "lock.idle_timeout_s", "must be an integer from 0 to 86400, got -1"},
        BadValue{"[lock]", "idle_timeout_s = 86401", "lock.idle_timeout_s", "must be an integer from 0 to 86400"},
        BadValue{"[lock]", "idle_timeout_s = \"10m\"", "lock.idle_timeout_s", "must be an integer from 0 to 86400"},
        BadValue{"[audio]", "hidden = \"quiet\"", "audio.hidden", "must be one of"},
        BadValue{"[audio]", "hidden = false", "audio.hidden", "must be one of"},
        BadValue{"[audio]", "mic_key = \"M M\"", "audio.mic_key", "must be an xkb keysym name"}));

TEST(ConfigBadValues, KioskRestartCapBelowFirstDelayIsAnErrorAtTheCap) {
    LoadResult result = parse(R"([kiosk]
restart_delay_max_ms = 5000
restart_delay_ms = 10000
)");
    ASSERT_EQ(result.diagnostics.size(), 1u) << dump(result);
    const Diagnostic& error = result.diagnostics[0];
    EXPECT_EQ(error.key, "kiosk.restart_delay_max_ms");
    EXPECT_EQ(error.line, 2);
    EXPECT_EQ(error.column, 24);
    EXPECT_THAT(error.message, HasSubstr("must be at least restart_delay_ms (10000), got 5000"));
    // The first delay is kept; the cap never undercuts it.
    EXPECT_EQ(result.config.kiosk.restart_delay_ms, 10000);
    EXPECT_EQ(result.config.kiosk.restart_delay_max_ms, 60000);
}

TEST(ConfigBadValues, KioskRestartCapIsRaisedToABadFirstDelaysDefault) {
    // The first delay is invalid (keeps 2000), so a cap of 1000 is below it as well.
    LoadResult result = parse("[kiosk]\nrestart_delay_ms = 5\nrestart_delay_max_ms = 1000\n");
    ASSERT_EQ(errors(result).size(), 2u) << dump(result);
    EXPECT_EQ(errors(result)[0].key, "kiosk.restart_delay_ms");
    EXPECT_EQ(errors(result)[1].key, "kiosk.restart_delay_max_ms");
    EXPECT_EQ(result.config.kiosk.restart_delay_ms, 2000);
    EXPECT_EQ(result.config.kiosk.restart_delay_max_ms, 60000);
}

TEST(ConfigBadValues, KioskSectionThatIsNotATable) {
    LoadResult result = parse("kiosk = \"win11\"\n");
    ASSERT_EQ(result.diagnostics.size(), 1u) << dump(result);
    EXPECT_EQ(result.diagnostics[0].key, "kiosk");
    EXPECT_THAT(result.diagnostics[0].message, HasSubstr("must be a table, written as [kiosk]"));
    EXPECT_EQ(result.config.kiosk, KioskConfig{});
}

TEST(ConfigBadValues, OtherKeysStillApply) {
    LoadResult result = parse(R"([keyboard]
layout = "de"
repeat_rate = "fast"
repeat_delay = 250
[pointer]
accel_profile = "flat"
)");
    ASSERT_EQ(errors(result).size(), 1u) << dump(result);
    EXPECT_EQ(errors(result)[0].key, "keyboard.repeat_rate");
    EXPECT_EQ(errors(result)[0].line, 3);
    EXPECT_EQ(result.config.keyboard.layout, "de");
    EXPECT_EQ(result.config.keyboard.repeat_rate, 25);
    EXPECT_EQ(result.config.keyboard.repeat_delay, 250);
    EXPECT_EQ(result.config.pointer.accel_profile, "flat");
}

TEST(ConfigBadValues, DiagnosticsAreInFileOrder) {
    LoadResult result = parse(R"([overlay]
font_size = 1
background = "red"
[keyboard]
repeat_rate = 5000
)");
    ASSERT_EQ(result.diagnostics.size(), 3u) << dump(result);
    EXPECT_EQ(result.diagnostics[0].line, 2);
    EXPECT_EQ(result.diagnostics[1].line, 3);
    EXPECT_EQ(result.diagnostics[2].line, 5);
}

TEST(ConfigBadValues, SectionThatIsNotATable) {
    LoadResult result = parse("keyboard = \"us\"\n[pointer]\nleft_handed = true\n");
    ASSERT_EQ(result.diagnostics.size(), 1u) << dump(result);
    EXPECT_EQ(result.diagnostics[0].key, "keyboard");
    EXPECT_EQ(result.diagnostics[0].line, 1);
    EXPECT_THAT(result.diagnostics[0].message, HasSubstr("must be a table, written as [keyboard]"));
    EXPECT_TRUE(result.config.pointer.left_handed);
}

TEST(ConfigBadValues, OutputThatIsNotATable) {
    LoadResult result = parse("[output]\nHEADLESS-1 = \"1920x1080\"\n");
    ASSERT_EQ(result.diagnostics.size(), 1u) << dump(result);
    EXPECT_EQ(result.diagnostics[0].key, "output.HEADLESS-1");
    EXPECT_EQ(result.diagnostics[0].line, 2);
    EXPECT_THAT(result.diagnostics[0].message, HasSubstr("[output.HEADLESS-1]"));
    EXPECT_TRUE(result.config.outputs.empty());
}

TEST(ConfigBadValues, AppWithoutCommandIsDroppedAndReportedAtItsHeader) {
    LoadResult result = parse(R"([[app]]
name = "Terminal"
command = "foot"

[[app]]
name = "Broken"

[[app]]
name = "Virtual Machine Manager"
command = "virt-manager"
)");
    ASSERT_EQ(result.diagnostics.size(), 1u) << dump(result);
    const Diagnostic& error = result.diagnostics[0];
    EXPECT_EQ(error.severity, Diagnostic::Severity::Error);
    EXPECT_EQ(error.key, "app[1].command");
    EXPECT_EQ(error.line, 5);
    EXPECT_THAT(error.message, HasSubstr("missing; every [[app]] needs a name and a command"));
    std::vector<App> expected{{"Terminal", "foot"}, {"Virtual Machine Manager", "virt-manager"}};
    EXPECT_EQ(result.config.apps, expected);
}

TEST(ConfigBadValues, AppWithNeitherNameNorCommandReportsBoth) {
    LoadResult result = parse("[[app]]\ncmd = \"foot\"\n");
    ASSERT_EQ(errors(result).size(), 2u) << dump(result);
    EXPECT_EQ(errors(result)[0].key, "app[0].name");
    EXPECT_EQ(errors(result)[1].key, "app[0].command");
    ASSERT_EQ(warnings(result).size(), 1u) << dump(result);
    EXPECT_EQ(warnings(result)[0].key, "app[0].cmd");
    EXPECT_TRUE(result.config.apps.empty());
}

TEST(ConfigBadValues, AppNameMustBeANonEmptyString) {
    for (const char* name : {"7", "\"\""}) {
        LoadResult result = parse("[[app]]\nname = " + std::string(name) + "\ncommand = \"foot\"\n");
        ASSERT_EQ(result.diagnostics.size(), 1u) << dump(result);
        EXPECT_EQ(result.diagnostics[0].key, "app[0].name");
        EXPECT_EQ(result.diagnostics[0].line, 2);
        EXPECT_EQ(result.diagnostics[0].column, 8);
        EXPECT_THAT(result.diagnostics[0].message, HasSubstr("must be a non-empty string"));
        EXPECT_TRUE(result.config.apps.empty());
    }
}

TEST(ConfigBadValues, AppCommandWithWrongType) {
    LoadResult result = parse("[[app]]\nname = \"Terminal\"\ncommand = [\"foot\"]\n");
    ASSERT_EQ(result.diagnostics.size(), 1u) << dump(result);
    EXPECT_EQ(result.diagnostics[0].key, "app[0].command");
    EXPECT_EQ(result.diagnostics[0].line, 3);
    EXPECT_EQ(result.diagnostics[0].column, 11);
    EXPECT_TRUE(result.config.apps.empty());
}

TEST(ConfigBadValues, AppAsSingleTableIsAnError) {
    LoadResult result = parse("[app]\nname = \"Terminal\"\ncommand = \"foot\"\n");
    ASSERT_EQ(result.diagnostics.size(), 1u) << dump(result);
    EXPECT_EQ(result.diagnostics[0].key, "app");
    EXPECT_THAT(result.diagnostics[0].message, HasSubstr("[[app]]"));
    EXPECT_TRUE(result.config.apps.empty());
}

TEST(ConfigBadValues, AppListEntryThatIsNotATable) {
    LoadResult result = parse("app = [\"foot\"]\n");
    ASSERT_EQ(result.diagnostics.size(), 1u) << dump(result);
    EXPECT_EQ(result.diagnostics[0].key, "app[0]");
    EXPECT_EQ(result.diagnostics[0].line, 1);
}

TEST(ConfigUnknownKeys, AreWarningsWithLineAndIgnored) {
    LoadResult result = parse(R"([keyboard]
layout = "fr"
repeat_rat = 40

[pointer]
natural_scrolling = true
)");
    EXPECT_FALSE(result.has_errors()) << dump(result);
    ASSERT_EQ(warnings(result).size(), 2u) << dump(result);
    EXPECT_EQ(warnings(result)[0].key, "keyboard.repeat_rat");
    EXPECT_EQ(warnings(result)[0].line, 3);
    EXPECT_EQ(warnings(result)[0].column, 1);
    EXPECT_THAT(warnings(result)[0].message, HasSubstr("unknown key"));
    EXPECT_THAT(warnings(result)[0].message, HasSubstr("did you mean \"repeat_rate\"?"));
    EXPECT_EQ(warnings(result)[1].key, "pointer.natural_scrolling");
    EXPECT_EQ(warnings(result)[1].line, 6);
    EXPECT_EQ(result.config.keyboard.layout, "fr");
    EXPECT_EQ(result.config.keyboard.repeat_rate, 25);
    EXPECT_FALSE(result.config.pointer.natural_scroll);
}

TEST(ConfigUnknownKeys, UnknownTablesAndTopLevelKeys) {
    LoadResult result = parse(R"(log_level = "debug"
[keybaord]
layout = "de"
[output.HEADLESS-1]
resolution = "1920x1080"
)");
    EXPECT_FALSE(result.has_errors()) << dump(result);
    ASSERT_EQ(result.diagnostics.size(), 3u) << dump(result);
    EXPECT_EQ(result.diagnostics[0].key, "log_level");
    EXPECT_EQ(result.diagnostics[0].line, 1);
    EXPECT_EQ(result.diagnostics[1].key, "keybaord");
    EXPECT_EQ(result.diagnostics[1].line, 2);
    EXPECT_THAT(result.diagnostics[1].message, HasSubstr("unknown table"));
    EXPECT_THAT(result.diagnostics[1].message, HasSubstr("did you mean \"keyboard\"?"));
    EXPECT_EQ(result.diagnostics[2].key, "output.HEADLESS-1.resolution");
    EXPECT_EQ(result.diagnostics[2].line, 5);
    EXPECT_EQ(result.config.log_level, LogLevel::Info);
    EXPECT_EQ(result.config.keyboard.layout, "");
    EXPECT_FALSE(result.config.outputs.at("HEADLESS-1").mode.has_value());
}

TEST(ConfigUnknownKeys, TyposInNewSectionsGetSuggestions) {
    LoadResult result = parse("[kiosk]\nrestart_dealy_ms = 500\n[identity]\nedge_widht = 4\n");
    EXPECT_FALSE(result.has_errors()) << dump(result);
    ASSERT_EQ(warnings(result).size(), 2u) << dump(result);
    EXPECT_EQ(warnings(result)[0].key, "kiosk.restart_dealy_ms");
    EXPECT_THAT(warnings(result)[0].message, HasSubstr("did you mean \"restart_delay_ms\"?"));
    EXPECT_EQ(warnings(result)[1].key, "identity.edge_widht");
    EXPECT_THAT(warnings(result)[1].message, HasSubstr("did you mean \"edge_width\"?"));
    EXPECT_EQ(result.config, Config{});
}

TEST(ConfigUnknownKeys, NoSuggestionForUnrelatedNames) {
    LoadResult result = parse("[hotkeys]\nlaunch_terminal = \"Super_L\"\n");
    ASSERT_EQ(result.diagnostics.size(), 1u) << dump(result);
    EXPECT_THAT(result.diagnostics[0].message, ::testing::Not(HasSubstr("did you mean")));
}

} // namespace
} // namespace phyllome::config
