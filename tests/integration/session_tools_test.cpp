// The desktop's own tools against the shell, as a user would run them: swayidle (ext-idle-notify)
// runs its command when the user stops typing and its resume command when they type again;
// kanshi (wlr-output-management) applies its profile to the output it names.
#include <gtest/gtest.h>

#include <signal.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "shell_process.hpp"

namespace phyllome::test {
namespace {

using namespace std::chrono_literals;

// Runs `command` in the background with the shell's client environment; its pid goes to `pid_file`.
void start_background(const ShellProcess& shell, const std::string& command, const std::string& pid_file) {
    ASSERT_EQ(run_command({"sh", "-c", command + " >/dev/null 2>&1 & echo $! > " + pid_file}, shell.client_env())
                  .exit_code,
              0);
}

class SessionTools : public ::testing::Test {
protected:
    void SetUp() override {
        char tmpl[] = "/tmp/phyllome-tools-XXXXXX";
        ASSERT_NE(mkdtemp(tmpl), nullptr);
        dir = tmpl;
    }
    void TearDown() override {
        std::ifstream in(dir + "/pid");
        if (int pid = 0; in >> pid && pid > 0)
            kill(pid, SIGTERM);
        shell.reset();
        std::filesystem::remove_all(dir);
    }
    void start_shell(const std::string& extra) {
        ShellProcess::Options o;
        o.config_toml += extra;
        shell = std::make_unique<ShellProcess>(o);
        ASSERT_TRUE(shell->started()) << shell->log();
    }

    std::string dir;
    std::unique_ptr<ShellProcess> shell;
};

TEST_F(SessionTools, SwayidleSeesTheUserGoIdleAndComeBack) {
    if (!have_program("swayidle") || !have_program("wtype"))
        GTEST_SKIP() << "swayidle or wtype is not installed";
    // The shell's own idle lock off: only swayidle acts.
    ASSERT_NO_FATAL_FAILURE(start_shell("[security]\nallow_virtual_input = true\n[lock]\nidle_timeout_s = 0\n"));
    const std::string idle = dir + "/idle", resumed = dir + "/resumed";
    ASSERT_NO_FATAL_FAILURE(start_background(
        *shell, "exec swayidle -w timeout 1 'touch " + idle + "' resume 'touch " + resumed + "'", dir + "/pid"));
    ASSERT_TRUE(wait_until([&] { return std::filesystem::exists(idle); }, 15s)) << "swayidle never saw the user idle";
    EXPECT_FALSE(std::filesystem::exists(resumed));
    ASSERT_EQ(shell->wtype({"-k", "Down"}).exit_code, 0);
    EXPECT_TRUE(wait_until([&] { return std::filesystem::exists(resumed); }, 10s))
        << "a key pressed after idle did not count as the user coming back";
}

TEST_F(SessionTools, KanshiAppliesItsProfileToTheOutput) {
    if (!have_program("kanshi"))
        GTEST_SKIP() << "kanshi is not installed";
    ASSERT_NO_FATAL_FAILURE(start_shell(""));
    ASSERT_NE(shell->status_json().find(R"("name": "HEADLESS-1", "width": 1280, "height": 800)"), std::string::npos);
    const std::string config = dir + "/kanshi.conf";
    std::ofstream(config) << "profile {\n    output HEADLESS-1 mode --custom 1024x768 transform 90\n}\n";
    ASSERT_NO_FATAL_FAILURE(start_background(*shell, "exec kanshi -c " + config, dir + "/pid"));
    // Status gives the mode; the screen is the mode turned.
    ASSERT_TRUE(shell->wait_for_status(R"("name": "HEADLESS-1", "width": 1024, "height": 768)", 15s))
        << "kanshi's profile was not applied: " << shell->status_json() << shell->log();
    EXPECT_NE(shell->status_json().find(R"("transform": "90")"), std::string::npos) << shell->status_json();
    const auto shot = shell->screenshot();
    ASSERT_TRUE(shot);
    EXPECT_EQ(shot->width, 768);
    EXPECT_EQ(shot->height, 1024);
}

} // namespace
} // namespace phyllome::test
