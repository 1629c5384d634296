// Runs the real phyllome-shell on the headless backend for integration tests, and drives it
// with the real phyllomectl, grim and wtype.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <utility>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace phyllome::test {

struct CommandResult {
    int exit_code = -1;
    std::string out;
    std::string err;
};

// Runs argv with extra environment, capturing output; kills it after `timeout`.
CommandResult run_command(const std::vector<std::string>& argv, const std::vector<std::string>& env = {},
                          std::chrono::milliseconds timeout = std::chrono::seconds(30));

// Polls `done` every 20 ms until it returns true or the deadline passes.
bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds deadline);

struct Image {
    int width = 0, height = 0;
    std::vector<unsigned char> rgb; // 3 bytes a pixel
    unsigned pixel(int x, int y) const; // 0xRRGGBB
};
std::optional<Image> parse_ppm(const std::string& data);
// PNG or PPM, by their signature.
std::optional<Image> parse_image(const std::string& data);

struct Rect {
    int x = 0, y = 0, width = 0, height = 0;
};

class ShellProcess {
public:
    struct Options {
        std::string libvirt_uri = "test:///default";
        std::string config_toml = "[output.HEADLESS-1]\nmode = \"1280x800\"\n";
        std::vector<std::string> extra_args;
        // Screenshots are taken with grim: the config lets clients capture the screen unless a
        // test says otherwise (added to the test's own [security] table when it has one).
        bool allow_screencopy = true;
        // Runs the shell nested (wlroots' Wayland backend) in the compositor listening on this
        // socket path instead of on the headless backend. Its output is then WL-1.
        std::string parent_wayland_socket;
        // Runs the shell (and its agent) in the network namespace of this process, as a session
        // on another host of a test's private network (tests/guestview/guest_move_fixture.hpp).
        pid_t network_namespace_of = -1;
        // Set in the shell's environment (and so its agent's): e.g. umockdev's LD_PRELOAD and
        // UMOCKDEV_DIR, for a simulated device tree.
        std::vector<std::pair<std::string, std::string>> env;
    };
    explicit ShellProcess(Options options);
    ~ShellProcess();
    ShellProcess(const ShellProcess&) = delete;
    ShellProcess& operator=(const ShellProcess&) = delete;

    // True once the control socket answers and libvirt's state (from the agent) is known.
    bool started() const { return started_; }
    const std::string& log_path() const { return log_path_; }
    std::string log() const;
    bool running() const;

    CommandResult ctl(const std::vector<std::string>& args) const;
    std::string status_json() const;
    CommandResult wtype(const std::vector<std::string>& args) const;
    std::optional<Image> screenshot() const;
    // One output's picture (grim -o).
    std::optional<Image> screenshot_output(const std::string& output) const;
    // Waits until status --json contains `needle`.
    bool wait_for_status(const std::string& needle, std::chrono::milliseconds deadline) const;
    const std::string& config_path() const { return config_path_; }
    // The shell's own process (forked and exec'd directly), -1 once reaped.
    pid_t pid() const { return pid_; }
    // CLOCK_MONOTONIC milliseconds just before the shell was forked.
    double spawned_at_ms() const { return spawned_at_ms_; }
    // The path of its Wayland socket, for a client or a nested shell.
    std::string wayland_socket() const { return runtime_dir_ + "/wayland-0"; }
    void send_signal(int sig) const;
    // Ends the shell with SIGTERM and returns its exit status.
    int stop();

    std::vector<std::string> client_env() const;

private:
    std::string dir_;
    std::string runtime_dir_;
    std::string log_path_;
    std::string config_path_;
    pid_t pid_ = -1;
    double spawned_at_ms_ = 0; // CLOCK_MONOTONIC, just before fork()
    bool started_ = false;
};

// Paths of the built programs and tools.
std::string build_path(const std::string& relative);
bool have_program(const std::string& name);
// The first row rectangle from status --json's overlay.rows.
std::optional<Rect> first_overlay_row(const std::string& status_json);
std::optional<Rect> overlay_row(const std::string& status_json, std::size_t index);
// The Host+number of the first host application's window in status --json, 0 when none.
int first_window_number(const std::string& status_json);
// "NAME=guest/head" for every output of status --json, "NAME=-" for one showing no guest.
std::string output_heads(const std::string& status_json);

} // namespace phyllome::test
