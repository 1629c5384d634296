// The example config/shell.toml shipped to users: it must parse cleanly as shipped and, with
// its settings uncommented, still parse cleanly and document the true defaults.
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <type_traits>

#include <gtest/gtest.h>
#include <toml++/toml.h>

#include "config/config.hpp"
#include "tests/config/diagnostics_helpers.hpp"

namespace phyllome::config {
namespace {

using test::dump;

std::string read_example() {
    const char* source_root = std::getenv("PHYLLOME_SOURCE_ROOT");
    if (!source_root)
        return {};
    std::ifstream file(std::string(source_root) + "/config/shell.toml");
    std::stringstream text;
    text << file.rdbuf();
    return text.str();
}

// The file's convention: "# " starts an explanation, "#" directly followed by a key or a
// table header is a setting shown at its default.
std::string uncomment_settings(const std::string& text) {
    std::istringstream lines(text);
    std::string result;
    for (std::string line; std::getline(lines, line);) {
        bool is_setting = line.size() > 1 && line[0] == '#' &&
                          (std::isalpha(static_cast<unsigned char>(line[1])) || line[1] == '[');
        result += (is_setting ? line.substr(1) : line) + "\n";
    }
    return result;
}

class ExampleConfig : public ::testing::Test {
protected:
    void SetUp() override {
        ASSERT_NE(std::getenv("PHYLLOME_SOURCE_ROOT"), nullptr) << "run through meson test";
        text_ = read_example();
        ASSERT_FALSE(text_.empty());
    }
    std::string text_;
};

TEST_F(ExampleConfig, ParsesWithoutDiagnosticsAsShipped) {
    LoadResult result = parse(text_, "shell.toml");
    EXPECT_TRUE(result.diagnostics.empty()) << dump(result);
    EXPECT_EQ(result.config, Config{});
}

TEST_F(ExampleConfig, UncommentedSettingsAreValidAndShowTheDefaults) {
    LoadResult result = parse(uncomment_settings(text_), "shell.toml (uncommented)");
    EXPECT_TRUE(result.diagnostics.empty()) << dump(result);

    Config config = result.config;
    ASSERT_EQ(config.outputs.count("HEADLESS-1"), 1u);
    EXPECT_TRUE(config.outputs.at("HEADLESS-1").mode.has_value());
    std::vector<App> expected_apps{{"Terminal", "foot"}, {"Virtual Machine Manager", "virt-manager"}};
    EXPECT_EQ(config.apps, expected_apps);
    std::vector<UsbDeviceRule> expected_usb{{"0781:5581", "4C530001230101115042", "win11", false},
                                            {"1050:0407", "", "", true}};
    EXPECT_EQ(config.usb.devices, expected_usb);

    // Apart from the examples, every documented value must be the built-in default.
    config.outputs.clear();
    config.apps.clear();
    config.usb.devices.clear();
    // The sample shows what an unset idle timeout means outside kiosk mode.
    EXPECT_EQ(config.lock.idle_timeout_s, Config{}.lock.effective_idle_timeout_s(false));
    config.lock.idle_timeout_s.reset();
    EXPECT_EQ(config, Config{});
}

TEST_F(ExampleConfig, DocumentsEveryKey) {
    toml::table document = toml::parse(uncomment_settings(text_));
    std::set<std::string> documented;
    document.for_each([&](const toml::key& section, const auto& node) {
        using Node = std::remove_cvref_t<decltype(node)>;
        if constexpr (std::is_same_v<Node, toml::table>) {
            const toml::table* keys = &node;
            std::string prefix = std::string(section.str());
            if (section.str() == "output") { // one level deeper: [output.NAME]
                keys = node.get("HEADLESS-1") ? node.get("HEADLESS-1")->as_table() : nullptr;
                prefix = "output.NAME";
            }
            if (keys)
                for (auto&& [key, value] : *keys)
                    documented.insert(prefix + "." + std::string(key.str()));
        } else if constexpr (std::is_same_v<Node, toml::array>) {
            for (const toml::node& entry : node)
                if (const toml::table* app = entry.as_table())
                    for (auto&& [key, value] : *app)
                        documented.insert(std::string(section.str()) + "." + std::string(key.str()));
        }
    });
    std::set<std::string> schema{
        "general.libvirt_uri",   "general.log_level",      "output.NAME.enabled",     "output.NAME.mode",
        "output.NAME.position",  "output.NAME.scale",      "output.NAME.transform",   "keyboard.layout",         "keyboard.variant",
        "keyboard.options",      "keyboard.model",         "keyboard.repeat_rate",    "keyboard.repeat_delay",
        "pointer.tap_to_click",  "pointer.natural_scroll", "pointer.left_handed",     "pointer.acceleration",
        "pointer.accel_profile", "security.allow_virtual_input", "security.allow_screencopy", "overlay.font",         "overlay.font_size",
        "overlay.background",    "overlay.foreground",     "overlay.accent",          "overlay.error",
        "hotkeys.host_key",      "hotkeys.overlay",        "hotkeys.next",            "hotkeys.previous",
        "hotkeys.ctrl_alt_delete", "kiosk.guest",          "kiosk.on_guest_exit",     "kiosk.admin_key",
        "kiosk.restart_delay_ms", "kiosk.restart_delay_max_ms", "identity.banner",    "identity.banner_ms",
        "identity.edge",         "identity.edge_width",    "lock.command",            "lock.key",
        "lock.idle_timeout_s",   "audio.hidden",           "audio.mic_key",           "app.name",
        "app.command",
        // Issue 16: the clipboard.
        "hotkeys.copy", "hotkeys.paste", "security.allow_data_control", "clipboard.max_bytes",
        // Issue 17: where the overlay backs up.
        "backup.directory", "move.destinations",
        // Issue 18: USB devices.
        "usb.key", "usb.ask_first", "usb.device",
    };
    EXPECT_EQ(documented, schema);
}

} // namespace
} // namespace phyllome::config
