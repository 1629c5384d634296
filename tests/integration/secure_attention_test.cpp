// The secure attention key against a host application that wants the screen (pushy-window: a
// fullscreen window that keeps asking to be fullscreen and noticed): launched from the overlay it
// comes to the front and takes the keys; after Host+Home no screenshot shows it and it gets no
// key until the user switches back to it; a window nobody asked for waits in the overlay's list.
#include <gtest/gtest.h>

#include <signal.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "shell_process.hpp"
#include "virtual_pointer.hpp"

namespace phyllome::test {
namespace {

using namespace std::chrono_literals;

constexpr unsigned pushy_colour = 0xd02090;

std::string slurp(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::vector<int> keys_in(const std::string& path) {
    std::vector<int> keys;
    std::istringstream in(slurp(path));
    for (int k = 0; in >> k;)
        keys.push_back(k);
    return keys;
}

// wtype types with a keymap of its own, so the window sees its codes, not the letters': the
// tests count the keys the window got instead.
std::size_t key_count(const std::string& path) { return keys_in(path).size(); }

long pixels_of(const Image& img, unsigned colour) {
    long n = 0;
    for (int y = 0; y < img.height; ++y)
        for (int x = 0; x < img.width; ++x)
            n += img.pixel(x, y) == colour;
    return n;
}

class SecureAttention : public ::testing::Test {
protected:
    void SetUp() override {
        if (!have_program("grim") || !have_program("wtype"))
            GTEST_SKIP() << "grim or wtype is not installed";
        char tmpl[] = "/tmp/phyllome-sak-XXXXXX";
        ASSERT_NE(mkdtemp(tmpl), nullptr);
        dir = tmpl;
        keys = dir + "/keys";
        pid_file = dir + "/pid";
    }
    void TearDown() override {
        for (const std::string& file : {pid_file, held_keyboard_pid})
            if (const std::string pid = slurp(file); !pid.empty())
                kill(std::stoi(pid), SIGKILL);
        shell.reset();
        if (!dir.empty())
            std::filesystem::remove_all(dir);
    }
    void start_shell() {
        ShellProcess::Options o;
        o.config_toml += "[security]\nallow_virtual_input = true\n[[app]]\nname = \"Pushy\"\ncommand = \"echo $$ > " +
                         pid_file + "; exec " + build_path("tests/integration/pushy-window") + " > " + keys + "\"\n";
        shell = std::make_unique<ShellProcess>(o);
        ASSERT_TRUE(shell->started()) << shell->log();
        // A keyboard that stays, as a real one does: the window binds its wl_keyboard when it
        // maps, not in a race with each short-lived wtype's keys.
        held_keyboard_pid = dir + "/held-keyboard";
        ASSERT_EQ(run_command({"sh", "-c", "wtype -s 120000 >/dev/null 2>&1 & echo $! > " + held_keyboard_pid},
                              shell->client_env())
                      .exit_code,
                  0);
        const std::string runtime = std::filesystem::path(shell->wayland_socket()).parent_path();
        ASSERT_TRUE(wait_until([&] { return seat_capabilities(runtime) & 2u /* keyboard */; }, 10s))
            << "the held virtual keyboard never appeared";
    }
    void host(const std::string& key) {
        ASSERT_EQ(shell->wtype({"-P", "Control_R", "-k", key, "-p", "Control_R"}).exit_code, 0);
    }
    bool view_is(const std::string& view) {
        return shell->wait_for_status("\"view\": \"" + view + "\"", 10s);
    }

    std::string dir, keys, pid_file, held_keyboard_pid;
    std::unique_ptr<ShellProcess> shell;
};

TEST_F(SecureAttention, AWindowThatWantsTheScreenNeitherCoversTheOverlayNorGetsKeysAfterHostHome) {
    ASSERT_NO_FATAL_FAILURE(start_shell());
    // Launched from the overlay (F1): the user asked for it, so it comes to the front.
    ASSERT_EQ(shell->wtype({"-k", "F1"}).exit_code, 0);
    ASSERT_TRUE(view_is("window")) << shell->status_json() << shell->log();
    auto shot = shell->screenshot();
    ASSERT_TRUE(shot);
    EXPECT_EQ(shot->pixel(shot->width / 2, shot->height / 2), pushy_colour) << "the window is not on screen";
    ASSERT_EQ(shell->wtype({"-k", "a"}).exit_code, 0);
    ASSERT_TRUE(wait_until([&] { return key_count(keys) >= 1; }, 10s)) << "the window at the front got no key";
    const std::size_t before = key_count(keys);

    host("Home");
    ASSERT_TRUE(view_is("overlay")) << shell->status_json();
    // It keeps asking for the screen all the while: no screenshot over a second shows a pixel of it.
    int shots = 0;
    const auto until = std::chrono::steady_clock::now() + 1s;
    while (std::chrono::steady_clock::now() < until || shots < 3) {
        shot = shell->screenshot();
        ASSERT_TRUE(shot);
        ASSERT_EQ(pixels_of(*shot, pushy_colour), 0) << "the window shows through the overlay (screenshot " << shots << ")";
        ++shots;
    }
    EXPECT_NE(shell->status_json().find("\"view\": \"overlay\""), std::string::npos);
    ASSERT_EQ(shell->wtype({"-k", "b"}).exit_code, 0); // the overlay's, not the window's

    // Back to it with Host+number: keys reach it again; B never did (C comes after B on the wire).
    const int number = first_window_number(shell->status_json());
    ASSERT_GT(number, 0) << shell->status_json();
    host(std::to_string(number));
    ASSERT_TRUE(view_is("window")) << shell->status_json();
    ASSERT_EQ(shell->wtype({"-k", "c"}).exit_code, 0);
    ASSERT_TRUE(wait_until([&] { return key_count(keys) > before; }, 10s)) << "no key after switching back";
    EXPECT_EQ(key_count(keys), before + 1)
        << "the window got keys typed on the overlay or the host chords: " << slurp(keys);

    // Closed: back where the user came from, the overlay.
    kill(std::stoi(slurp(pid_file)), SIGTERM);
    EXPECT_TRUE(view_is("overlay")) << shell->status_json();
    EXPECT_EQ(shell->status_json().find("\"windows\": [{"), std::string::npos) << "the closed window is still listed";
}

TEST_F(SecureAttention, AWindowNobodyAskedForWaitsInTheOverlaysList) {
    ASSERT_NO_FATAL_FAILURE(start_shell());
    auto env = shell->client_env();
    auto r = run_command({"sh", "-c", build_path("tests/integration/pushy-window") + " > " + keys + " 2>/dev/null & echo $! > " + pid_file},
                         env);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    ASSERT_TRUE(shell->wait_for_status("\"windows\": [{", 10s)) << shell->status_json() << shell->log();
    const std::string json = shell->status_json();
    EXPECT_NE(json.find("\"view\": \"overlay\""), std::string::npos) << json;
    EXPECT_NE(json.find("opened a window"), std::string::npos) << "the overlay does not say a window opened: " << json;
    const auto shot = shell->screenshot();
    ASSERT_TRUE(shot);
    EXPECT_EQ(pixels_of(*shot, pushy_colour), 0) << "a window nobody switched to is on screen";
    ASSERT_EQ(shell->wtype({"-k", "a"}).exit_code, 0);
    const int number = first_window_number(shell->status_json());
    ASSERT_GT(number, 0);
    host(std::to_string(number));
    ASSERT_TRUE(view_is("window"));
    ASSERT_EQ(shell->wtype({"-k", "c"}).exit_code, 0);
    ASSERT_TRUE(wait_until([&] { return key_count(keys) >= 1; }, 10s)) << "no key after switching to it";
    EXPECT_EQ(key_count(keys), 1u) << "the window got a key typed before anyone switched to it: " << slurp(keys);
}

} // namespace
} // namespace phyllome::test
