#include "shell_process.hpp"

#include <fcntl.h>
#include <png.h>
#include <sched.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

namespace phyllome::test {
namespace fs = std::filesystem;

std::string build_path(const std::string& relative) {
    const char* root = std::getenv("PHYLLOME_BUILD_ROOT");
    return std::string(root ? root : ".") + "/" + relative;
}

bool have_program(const std::string& name) {
    return run_command({"/bin/sh", "-c", "command -v " + name}).exit_code == 0;
}

namespace {

std::vector<char*> to_argv(std::vector<std::string>& v) {
    std::vector<char*> out;
    for (auto& s : v)
        out.push_back(s.data());
    out.push_back(nullptr);
    return out;
}

void apply_env(const std::vector<std::string>& env) {
    for (const auto& kv : env) {
        auto eq = kv.find('=');
        if (eq != std::string::npos)
            setenv(kv.substr(0, eq).c_str(), kv.substr(eq + 1).c_str(), 1);
    }
}

} // namespace

CommandResult run_command(const std::vector<std::string>& argv_in, const std::vector<std::string>& env,
                          std::chrono::milliseconds timeout) {
    CommandResult result;
    int out_pipe[2], err_pipe[2];
    if (pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0)
        return result;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(out_pipe[1], 1);
        dup2(err_pipe[1], 2);
        apply_env(env);
        std::vector<std::string> argv = argv_in;
        auto args = to_argv(argv);
        execvp(args[0], args.data());
        _exit(127);
    }
    close(out_pipe[1]);
    close(err_pipe[1]);
    // Read both pipes until they close or time runs out.
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
    int open_fds = 2;
    while (open_fds > 0) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            kill(pid, SIGKILL);
            result.err += "\n[test harness: command timed out]";
            break;
        }
        if (poll(fds, 2, static_cast<int>(left.count())) <= 0)
            continue;
        for (auto& p : fds) {
            if (p.fd < 0 || !(p.revents & (POLLIN | POLLHUP)))
                continue;
            char buf[65536];
            ssize_t n = read(p.fd, buf, sizeof buf);
            if (n <= 0) {
                p.fd = -1;
                --open_fds;
            } else {
                (&p == &fds[0] ? result.out : result.err).append(buf, static_cast<std::size_t>(n));
            }
        }
    }
    close(out_pipe[0]);
    close(err_pipe[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return result;
}

bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds deadline) {
    const auto end = std::chrono::steady_clock::now() + deadline;
    while (std::chrono::steady_clock::now() < end) {
        if (done())
            return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(20)); // poll interval, not synchronisation
    }
    return done();
}

unsigned Image::pixel(int x, int y) const {
    const std::size_t i = (static_cast<std::size_t>(y) * width + x) * 3;
    return (rgb[i] << 16) | (rgb[i + 1] << 8) | rgb[i + 2];
}

std::optional<Image> parse_ppm(const std::string& data) {
    std::istringstream in(data);
    std::string magic;
    int w = 0, h = 0, maxval = 0;
    in >> magic >> w >> h >> maxval;
    if (magic != "P6" || w <= 0 || h <= 0 || maxval != 255)
        return std::nullopt;
    in.get();
    Image img;
    img.width = w;
    img.height = h;
    img.rgb.resize(static_cast<std::size_t>(w) * h * 3);
    in.read(reinterpret_cast<char*>(img.rgb.data()), static_cast<std::streamsize>(img.rgb.size()));
    if (in.gcount() != static_cast<std::streamsize>(img.rgb.size()))
        return std::nullopt;
    return img;
}

std::optional<Image> parse_image(const std::string& data) {
    if (!data.starts_with("\x89PNG"))
        return parse_ppm(data);
    png_image png{};
    png.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_memory(&png, data.data(), data.size()))
        return std::nullopt;
    png.format = PNG_FORMAT_RGB;
    Image img;
    img.width = static_cast<int>(png.width);
    img.height = static_cast<int>(png.height);
    img.rgb.resize(PNG_IMAGE_SIZE(png));
    if (!png_image_finish_read(&png, nullptr, img.rgb.data(), 0, nullptr)) {
        png_image_free(&png);
        return std::nullopt;
    }
    return img;
}

namespace {
// The config text with [security] allow_screencopy = true, unless the text sets it itself.
std::string with_screencopy(std::string toml, bool allow) {
    if (!allow || toml.find("allow_screencopy") != std::string::npos)
        return toml;
    const std::string header = "[security]\n";
    if (auto at = toml.find(header); at != std::string::npos)
        return toml.insert(at + header.size(), "allow_screencopy = true\n");
    if (!toml.empty() && toml.back() != '\n')
        toml += '\n';
    return toml + header + "allow_screencopy = true\n";
}
} // namespace

ShellProcess::ShellProcess(Options options) {
    char tmpl[] = "/tmp/phyllome-it-XXXXXX";
    dir_ = mkdtemp(tmpl);
    runtime_dir_ = dir_ + "/run";
    fs::create_directory(runtime_dir_);
    fs::permissions(runtime_dir_, fs::perms::owner_all, fs::perm_options::replace);
    config_path_ = dir_ + "/shell.toml";
    std::ofstream(config_path_) << with_screencopy(options.config_toml, options.allow_screencopy);
    log_path_ = dir_ + "/shell.log";

    std::vector<std::string> argv = {build_path("compositor/phyllome-shell"), "--config", config_path_,
                                     "--libvirt-uri", options.libvirt_uri};
    argv.insert(argv.end(), options.extra_args.begin(), options.extra_args.end());
    timespec now{};
    clock_gettime(CLOCK_MONOTONIC, &now);
    spawned_at_ms_ = now.tv_sec * 1000.0 + now.tv_nsec / 1e6;
    const int netns = options.network_namespace_of > 0
                          ? open(("/proc/" + std::to_string(options.network_namespace_of) + "/ns/net").c_str(),
                                 O_RDONLY | O_CLOEXEC)
                          : -1;
    if (options.network_namespace_of > 0 && netns < 0)
        return; // not started: the namespace's process is gone
    pid_ = fork();
    if (pid_ == 0) {
        if (netns >= 0 && setns(netns, CLONE_NEWNET) != 0)
            _exit(126);
        int log = open(log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        dup2(log, 1);
        dup2(log, 2);
        setenv("XDG_RUNTIME_DIR", runtime_dir_.c_str(), 1);
        setenv("XDG_STATE_HOME", (dir_ + "/state").c_str(), 1);
        setenv("XDG_DATA_HOME", (dir_ + "/data").c_str(), 1);
        setenv("WLR_RENDERER", "pixman", 1);
        setenv("WLR_LIBINPUT_NO_DEVICES", "1", 1);
        if (options.parent_wayland_socket.empty()) {
            setenv("WLR_BACKENDS", "headless", 1);
            unsetenv("WAYLAND_DISPLAY");
        } else {
            setenv("WLR_BACKENDS", "wayland", 1);
            setenv("WAYLAND_DISPLAY", options.parent_wayland_socket.c_str(), 1); // a path: used as is
        }
        unsetenv("DISPLAY");
        unsetenv("PHYLLOME_SOCKET");
        for (const auto& [key, value] : options.env)
            setenv(key.c_str(), value.c_str(), 1);
        auto args = to_argv(argv);
        execv(args[0], args.data());
        _exit(127);
    }
    if (netns >= 0)
        close(netns);
    started_ = wait_until(
        [&] { return !running() ? true : ctl({"status"}).exit_code == 0; }, std::chrono::seconds(20)) &&
               running();
    // libvirt lives in the shell's agent process, which answers a moment after the shell is up:
    // tests start from a known libvirt state, connected or failed.
    if (started_)
        started_ = wait_until([&] { return !running() || status_json().find(R"("state": "connecting")") == std::string::npos; },
                              std::chrono::seconds(20)) &&
                   running();
}

ShellProcess::~ShellProcess() {
    stop();
    std::error_code ec;
    if (std::getenv("PHYLLOME_KEEP_TEST_DIRS") == nullptr)
        fs::remove_all(dir_, ec);
}

bool ShellProcess::running() const {
    if (pid_ <= 0)
        return false;
    // WNOWAIT keeps the zombie so stop() can still read the exit status.
    siginfo_t info{};
    return waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == 0;
}

std::string ShellProcess::log() const {
    std::ifstream f(log_path_);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

std::vector<std::string> ShellProcess::client_env() const {
    return {"XDG_RUNTIME_DIR=" + runtime_dir_, "WAYLAND_DISPLAY=wayland-0", "PHYLLOME_SOCKET="};
}

CommandResult ShellProcess::ctl(const std::vector<std::string>& args) const {
    std::vector<std::string> argv = {build_path("compositor/phyllomectl")};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_command(argv, client_env());
}

std::string ShellProcess::status_json() const { return ctl({"status", "--json"}).out; }

CommandResult ShellProcess::wtype(const std::vector<std::string>& args) const {
    std::vector<std::string> argv = {"wtype"};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_command(argv, client_env());
}

std::optional<Image> ShellProcess::screenshot() const {
    auto r = run_command({"grim", "-t", "ppm", "-"}, client_env());
    if (r.exit_code != 0)
        return std::nullopt;
    return parse_ppm(r.out);
}

std::optional<Image> ShellProcess::screenshot_output(const std::string& output) const {
    auto r = run_command({"grim", "-o", output, "-t", "ppm", "-"}, client_env());
    return r.exit_code == 0 ? parse_ppm(r.out) : std::nullopt;
}

bool ShellProcess::wait_for_status(const std::string& needle, std::chrono::milliseconds deadline) const {
    return wait_until([&] { return status_json().find(needle) != std::string::npos; }, deadline);
}

void ShellProcess::send_signal(int sig) const {
    if (pid_ > 0)
        kill(pid_, sig);
}

int ShellProcess::stop() {
    if (pid_ <= 0)
        return -1;
    kill(pid_, SIGTERM);
    int status = 0;
    bool exited = wait_until([&] { return waitpid(pid_, &status, WNOHANG) == pid_; }, std::chrono::seconds(10));
    if (!exited) {
        kill(pid_, SIGKILL);
        waitpid(pid_, &status, 0);
    }
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::optional<Rect> overlay_row(const std::string& json, std::size_t index) {
    auto rows = json.find("\"rows\": [");
    if (rows == std::string::npos)
        return std::nullopt;
    static const std::regex row_re(R"(\{"x": (-?\d+), "y": (-?\d+), "width": (\d+), "height": (\d+)\})");
    auto begin = std::sregex_iterator(json.begin() + static_cast<long>(rows), json.end(), row_re);
    std::size_t i = 0;
    for (auto it = begin; it != std::sregex_iterator(); ++it, ++i)
        if (i == index)
            return Rect{std::stoi((*it)[1]), std::stoi((*it)[2]), std::stoi((*it)[3]), std::stoi((*it)[4])};
    return std::nullopt;
}

std::optional<Rect> first_overlay_row(const std::string& json) { return overlay_row(json, 0); }

int first_window_number(const std::string& status_json) {
    static const std::regex re(
        R"re("windows": \[\{"id": \d+, "title": "(?:[^"\\]|\\.)*", "app_id": "(?:[^"\\]|\\.)*", "number": (\d+))re");
    std::smatch m;
    return std::regex_search(status_json, m, re) ? std::stoi(m[1].str()) : 0;
}

std::string output_heads(const std::string& json) {
    static const std::regex re(R"re(\{"name": "([^"]+)"[^}]*"guest": (null|"([^"]*)"), "head": (null|\d+)\})re");
    std::string out;
    for (auto it = std::sregex_iterator(json.begin(), json.end(), re); it != std::sregex_iterator(); ++it)
        out += (out.empty() ? "" : ",") + (*it)[1].str() + "=" +
               ((*it)[2] == "null" ? std::string("-") : (*it)[3].str() + "/" + (*it)[4].str());
    return out;
}

} // namespace phyllome::test
