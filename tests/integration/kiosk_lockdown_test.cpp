// Kiosk means kiosk: with `--kiosk NAME` and no admin key configured, phyllomectl's verbs other
// than status, screenshot and quit are refused, the screen's keys (the overlay's, host apps',
// Host+Home) do nothing, and nothing but the kiosk guest can be shown; the admin key, when
// configured, opens all of it. No QEMU needed: the kiosk guest need not exist for its locks.
#include <gtest/gtest.h>

#include <filesystem>

#include "shell_process.hpp"

namespace phyllome::test {
namespace {

using namespace std::chrono_literals;

class KioskLockdown : public ::testing::Test {
protected:
    void SetUp() override {
        if (!have_program("wtype"))
            GTEST_SKIP() << "wtype is not installed";
        char tmpl[] = "/tmp/phyllome-kiosk-lock-XXXXXX";
        ASSERT_NE(mkdtemp(tmpl), nullptr);
        dir = tmpl;
        launched = dir + "/launched";
    }
    void TearDown() override {
        shell.reset();
        if (!dir.empty())
            std::filesystem::remove_all(dir);
    }
    void start_shell(const std::string& kiosk_config) {
        ShellProcess::Options o;
        o.config_toml += "[security]\nallow_virtual_input = true\n[kiosk]\n" + kiosk_config +
                         "[[app]]\nname = \"Terminal\"\ncommand = \"touch " + launched + "\"\n";
        o.extra_args = {"--kiosk", "ghost"};
        shell = std::make_unique<ShellProcess>(o);
        ASSERT_TRUE(shell->started()) << shell->log();
    }
    void host(const std::string& key) {
        ASSERT_EQ(shell->wtype({"-P", "Control_R", "-k", key, "-p", "Control_R"}).exit_code, 0);
    }

    std::string dir, launched;
    std::unique_ptr<ShellProcess> shell;
};

TEST_F(KioskLockdown, EveryControlVerbButStatusScreenshotAndQuitIsRefused) {
    ASSERT_NO_FATAL_FAILURE(start_shell(""));
    const std::vector<std::vector<std::string>> escapes = {
        {"start", "test"},  {"shutdown", "test"}, {"destroy", "test"},   {"remove", "test"},
        {"show", "test"},   {"overlay"},          {"next"},              {"prev"},
        {"adopt", "test"},  {"eject", "test"},    {"identity", "slot=3", "test"},
        {"create", "x", "--iso", "/nonexistent.iso"}, {"output", "add", "800x600"}, {"output", "remove", "HEADLESS-1"},
    };
    for (const auto& args : escapes) {
        const CommandResult r = shell->ctl(args);
        std::string line;
        for (const auto& a : args)
            line += a + " ";
        EXPECT_NE(r.exit_code, 0) << "phyllomectl " << line << "was obeyed in kiosk mode";
        EXPECT_NE((r.out + r.err).find("refused in kiosk mode"), std::string::npos) << line << ": " << r.out << r.err;
    }
    const std::string json = shell->status_json();
    EXPECT_NE(json.find(R"("name": "test", "state": "running")"), std::string::npos) << "a refused verb acted: " << json;
    EXPECT_NE(json.find(R"("kiosk": {"guest": "ghost")"), std::string::npos) << json;
    EXPECT_NE(json.find(R"("name": "HEADLESS-1")"), std::string::npos) << "the output went: " << json;
    const CommandResult shot = shell->ctl({"screenshot", "test"});
    EXPECT_EQ((shot.out + shot.err).find("refused in kiosk mode"), std::string::npos) << shot.out << shot.err;
    // An admin may still end the session.
    EXPECT_EQ(shell->ctl({"quit"}).exit_code, 0);
    EXPECT_EQ(shell->stop(), 0);
}

TEST_F(KioskLockdown, TheScreensKeysDoNothingWithoutTheAdminKey) {
    ASSERT_NO_FATAL_FAILURE(start_shell(""));
    // The overlay's keys: an app (F1), a new guest (N), start (S), the list's Enter; and Host+Home.
    for (const char* key : {"F1", "n", "s", "Return", "Down", "Return"})
        ASSERT_EQ(shell->wtype({"-k", key}).exit_code, 0);
    host("Home");
    host("1");
    const std::string json = shell->status_json(); // after the keys: the shell read them first
    EXPECT_EQ(json.find("Starting Terminal"), std::string::npos) << json;
    EXPECT_NE(json.find(R"("new_guest": null)"), std::string::npos) << json;
    EXPECT_NE(json.find(R"("notice": null)"), std::string::npos) << "a key did something: " << json;
    EXPECT_NE(json.find(R"("name": "test", "state": "running")"), std::string::npos) << json;
    EXPECT_NE(json.find(R"("kiosk": {"guest": "ghost")"), std::string::npos) << json;
    EXPECT_FALSE(wait_until([&] { return std::filesystem::exists(launched); }, 500ms)) << "a host app was launched";
}

TEST_F(KioskLockdown, TheAdminKeyOpensTheOverlayAndItsVerbs) {
    ASSERT_NO_FATAL_FAILURE(start_shell("admin_key = \"F12\"\n"));
    EXPECT_NE(shell->ctl({"overlay"}).exit_code, 0) << "obeyed before the admin key";
    host("F12"); // wtype returns once the shell has read the keys
    const CommandResult r = shell->ctl({"overlay"});
    EXPECT_EQ(r.exit_code, 0) << "refused after the admin key: " << r.out << r.err;
    ASSERT_EQ(shell->wtype({"-k", "F1"}).exit_code, 0);
    EXPECT_TRUE(wait_until([&] { return std::filesystem::exists(launched); }, 10s)) << "the admin's F1 launched nothing";
}

} // namespace
} // namespace phyllome::test
