// load(): explicit path, then $XDG_CONFIG_HOME (or ~/.config), then SYSCONFDIR.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/config.hpp"
#include "tests/config/diagnostics_helpers.hpp"

namespace phyllome::config {
namespace {

namespace fs = std::filesystem;
using test::dump;
using ::testing::HasSubstr;

// Sets or unsets an environment variable for one test and puts the old value back.
class ScopedEnv {
public:
    ScopedEnv(const char* name, const std::optional<std::string>& value) : name_(name) {
        if (const char* old = std::getenv(name))
            old_ = old;
        if (value)
            ::setenv(name, value->c_str(), 1);
        else
            ::unsetenv(name);
    }
    ~ScopedEnv() {
        if (old_)
            ::setenv(name_, old_->c_str(), 1);
        else
            ::unsetenv(name_);
    }
    ScopedEnv(const ScopedEnv&) = delete;
    ScopedEnv& operator=(const ScopedEnv&) = delete;

private:
    const char* name_;
    std::optional<std::string> old_;
};

class ConfigLoad : public ::testing::Test {
protected:
    void SetUp() override {
        std::string pattern = (fs::temp_directory_path() / "phyllome-config-test-XXXXXX").string();
        ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
        root_ = pattern;
    }
    void TearDown() override {
        std::error_code ignored;
        fs::remove_all(root_, ignored);
    }

    // Writes a config whose log level tells the tests which file was read.
    fs::path write_config(const fs::path& dir, std::string_view log_level) {
        fs::path file = root_ / dir / "phyllome" / "shell.toml";
        fs::create_directories(file.parent_path());
        std::ofstream(file) << "[general]\nlog_level = \"" << log_level << "\"\n";
        return file;
    }

    fs::path root_;
};

TEST_F(ConfigLoad, ExplicitPathWinsOverTheSearchPath) {
    ScopedEnv config_home("XDG_CONFIG_HOME", (root_ / "xdg").string());
    write_config("xdg", "debug");
    fs::path explicit_file = write_config("explicit", "error");

    LoadResult result = load(explicit_file.string(), (root_ / "etc").string());
    EXPECT_TRUE(result.diagnostics.empty()) << dump(result);
    EXPECT_EQ(result.path, explicit_file.string());
    EXPECT_EQ(result.config.log_level, LogLevel::Error);
}

TEST_F(ConfigLoad, MissingExplicitFileIsAnErrorWithDefaults) {
    ScopedEnv config_home("XDG_CONFIG_HOME", (root_ / "xdg").string());
    write_config("xdg", "debug");
    std::string missing = (root_ / "nope.toml").string();

    LoadResult result = load(missing, "");
    ASSERT_EQ(result.diagnostics.size(), 1u) << dump(result);
    EXPECT_EQ(result.diagnostics[0].severity, Diagnostic::Severity::Error);
    EXPECT_EQ(result.diagnostics[0].source, missing);
    EXPECT_THAT(result.diagnostics[0].message, HasSubstr("No such file"));
    EXPECT_EQ(result.path, "");
    EXPECT_EQ(result.config, Config{});
}

TEST_F(ConfigLoad, UnreadableExplicitFileIsAnError) {
    // A directory opens but cannot be read, which works even when the tests run as root.
    LoadResult result = load(root_.string(), "");
    ASSERT_EQ(result.diagnostics.size(), 1u) << dump(result);
    EXPECT_EQ(result.diagnostics[0].severity, Diagnostic::Severity::Error);
    EXPECT_THAT(result.diagnostics[0].message, HasSubstr("cannot read"));
    EXPECT_EQ(result.path, "");
    EXPECT_EQ(result.config, Config{});
}

TEST_F(ConfigLoad, XdgConfigHomeComesBeforeSysconfdir) {
    ScopedEnv config_home("XDG_CONFIG_HOME", (root_ / "xdg").string());
    ScopedEnv home("HOME", (root_ / "home").string());
    fs::path user_file = write_config("xdg", "debug");
    write_config("home/.config", "warning");
    write_config("etc", "error");

    LoadResult result = load("", (root_ / "etc").string());
    EXPECT_TRUE(result.diagnostics.empty()) << dump(result);
    EXPECT_EQ(result.path, user_file.string());
    EXPECT_EQ(result.config.log_level, LogLevel::Debug);
}

TEST_F(ConfigLoad, UnsetXdgConfigHomeFallsBackToHomeDotConfig) {
    ScopedEnv config_home("XDG_CONFIG_HOME", std::nullopt);
    ScopedEnv home("HOME", (root_ / "home").string());
    fs::path user_file = write_config("home/.config", "warning");
    write_config("etc", "error");

    LoadResult result = load("", (root_ / "etc").string());
    EXPECT_EQ(result.path, user_file.string());
    EXPECT_EQ(result.config.log_level, LogLevel::Warning);
}

TEST_F(ConfigLoad, EmptyXdgConfigHomeFallsBackToHomeDotConfig) {
    ScopedEnv config_home("XDG_CONFIG_HOME", "");
    ScopedEnv home("HOME", (root_ / "home").string());
    fs::path user_file = write_config("home/.config", "warning");

    LoadResult result = load("", (root_ / "etc").string());
    EXPECT_EQ(result.path, user_file.string());
    EXPECT_EQ(result.config.log_level, LogLevel::Warning);
}

TEST_F(ConfigLoad, RelativeXdgConfigHomeIsIgnored) {
    ScopedEnv config_home("XDG_CONFIG_HOME", "relative/dir");
    ScopedEnv home("HOME", (root_ / "home").string());
    fs::path user_file = write_config("home/.config", "warning");

    LoadResult result = load("", "");
    EXPECT_EQ(result.path, user_file.string());
}

TEST_F(ConfigLoad, SysconfdirWhenNoUserFile) {
    ScopedEnv config_home("XDG_CONFIG_HOME", (root_ / "xdg").string());
    ScopedEnv home("HOME", (root_ / "home").string());
    fs::path system_file = write_config("etc", "error");

    LoadResult result = load("", (root_ / "etc").string());
    EXPECT_TRUE(result.diagnostics.empty()) << dump(result);
    EXPECT_EQ(result.path, system_file.string());
    EXPECT_EQ(result.config.log_level, LogLevel::Error);
}

TEST_F(ConfigLoad, NoFileAnywhereGivesDefaultsSilently) {
    ScopedEnv config_home("XDG_CONFIG_HOME", (root_ / "xdg").string());
    ScopedEnv home("HOME", (root_ / "home").string());

    LoadResult result = load("", (root_ / "etc").string());
    EXPECT_TRUE(result.diagnostics.empty()) << dump(result);
    EXPECT_EQ(result.path, "");
    EXPECT_EQ(result.config, Config{});
}

TEST_F(ConfigLoad, NoHomeAndNoXdgStillChecksSysconfdir) {
    ScopedEnv config_home("XDG_CONFIG_HOME", std::nullopt);
    ScopedEnv home("HOME", std::nullopt);
    fs::path system_file = write_config("etc", "error");

    LoadResult result = load("", (root_ / "etc").string());
    EXPECT_EQ(result.path, system_file.string());
}

TEST_F(ConfigLoad, FoundFileWithErrorsReportsThemUnderItsPath) {
    ScopedEnv config_home("XDG_CONFIG_HOME", (root_ / "xdg").string());
    fs::path user_file = root_ / "xdg" / "phyllome" / "shell.toml";
    fs::create_directories(user_file.parent_path());
    std::ofstream(user_file) << "[keyboard]\nrepeat_rate = 5000\n";
    write_config("etc", "error");

    LoadResult result = load("", (root_ / "etc").string());
    EXPECT_EQ(result.path, user_file.string());
    ASSERT_EQ(result.diagnostics.size(), 1u) << dump(result);
    EXPECT_EQ(result.diagnostics[0].to_string(),
              user_file.string() + ":2:15: error: keyboard.repeat_rate: must be an integer from 0 to 1000, got 5000");
    // A broken user file is not silently replaced by the system one.
    EXPECT_EQ(result.config.log_level, LogLevel::Info);
}

} // namespace
} // namespace phyllome::config
