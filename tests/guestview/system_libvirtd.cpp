#include "tests/guestview/system_libvirtd.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>
#include <system_error>
#include <utility>
#include <vector>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include "tests/guestview/test_support.hpp"

extern char** environ;

namespace phyllome::guestview::testing {
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

constexpr const char* libvirtd = "/usr/sbin/libvirtd";
constexpr const char* driver_dir = "/usr/lib/x86_64-linux-gnu/libvirt/connection-driver";
// Kept between runs: a fresh capabilities cache costs a QEMU probe of up to a minute.
constexpr const char* cache_dir = "/var/tmp/phyllome-test-system-libvirt-cache";
constexpr const char* lock_path = "/var/tmp/phyllome-test-system-libvirtd.lock";

using guestview::testing::unix_socket_accepts;

int pidfd_open(pid_t pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }

// Waits up to `timeout` for the process behind `pidfd` to exit; true when it did.
bool exits_within(int pidfd, std::chrono::milliseconds timeout) {
    pollfd p{pidfd, POLLIN, 0};
    return ::poll(&p, 1, static_cast<int>(timeout.count())) > 0;
}

void say(const char* a, const char* b) {
    // Only write(2) between fork and exec: the parent may have threads holding locks.
    const ssize_t ignored = ::write(2, a, std::strlen(a)) + ::write(2, b, std::strlen(b)) + ::write(2, "\n", 1);
    (void)ignored;
}

std::string read_all(const fs::path& path) {
    std::ifstream in{path};
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

} // namespace

std::string SystemLibvirtd::unavailable() {
    if (::geteuid() != 0)
        return "a system-mode libvirtd needs root";
    if (::access(libvirtd, X_OK) != 0)
        return std::string{libvirtd} + " is missing (libvirt-daemon)";
    for (const char* driver : {"libvirt_driver_qemu.so", "libvirt_driver_secret.so"})
        if (!fs::exists(fs::path{driver_dir} / driver))
            return std::string{driver_dir} + "/" + driver + " is missing (libvirt-daemon-driver-qemu)";
    return {};
}

SystemLibvirtd::SystemLibvirtd(Options options) : options_(std::move(options)) {
    char tmpl[] = "/tmp/phyllome-system-libvirtd-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr)
        throw std::system_error(errno, std::generic_category(), "mkdtemp");
    dir_ = tmpl;
    for (const char* sub : {"sock", "etc", "run", "lib", "log/qemu", "drivers"})
        fs::create_directories(dir_ + "/" + sub);
    fs::create_directories(cache_dir);
    // Only the drivers asked for: no network or nodedev driver to start or to clash.
    std::vector<const char*> drivers{"libvirt_driver_qemu.so", "libvirt_driver_secret.so"};
    if (options_.storage)
        drivers.push_back("libvirt_driver_storage.so");
    for (const char* driver : drivers)
        fs::create_symlink(fs::path{driver_dir} / driver, fs::path{dir_} / "drivers" / driver);
    std::ofstream conf(dir_ + "/libvirtd.conf");
    conf << "listen_tls = 0\nlisten_tcp = " << (options_.listen_tcp ? 1 : 0) << "\nunix_sock_dir = \"" << dir_
         << "/sock\"\nunix_sock_rw_perms = \"0700\"\nauth_unix_ro = \"none\"\nauth_unix_rw = \"none\"\n"
            "log_outputs = \"3:stderr\"\n";
    if (options_.listen_tcp)
        conf << "auth_tcp = \"none\"\n";
    if (!options_.host_uuid.empty())
        conf << "host_uuid = \"" << options_.host_uuid << "\"\n";
    // Read as /etc/libvirt/qemu.conf inside the daemon's namespace. QEMU as root opens the
    // test's files in /tmp; no cgroups or per-guest namespaces in a build root; no virtlogd.
    std::ofstream(dir_ + "/etc/qemu.conf") << "user = \"root\"\ngroup = \"root\"\ndynamic_ownership = 0\n"
                                              "remember_owner = 0\nsecurity_driver = \"none\"\n"
                                              "cgroup_controllers = [ ]\nnamespaces = [ ]\n"
                                              "stdio_handler = \"file\"\nswtpm_user = \"root\"\n"
                                              "swtpm_group = \"root\"\n";
}

SystemLibvirtd::~SystemLibvirtd() {
    stop();
    kill_left_qemus();
    if (lock_fd_ >= 0)
        ::close(lock_fd_); // releases the flock
    std::error_code ec;
    fs::remove_all(dir_, ec);
}

SystemLibvirtd::Started SystemLibvirtd::start(std::chrono::milliseconds deadline) {
    const auto until = Clock::now() + deadline;
    auto left = [&] {
        return std::max(std::chrono::milliseconds{0},
                        std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now()));
    };
    const std::string lock_file = options_.lock_name.empty() ? std::string{lock_path}
                                                             : std::string{lock_path} + "-" + options_.lock_name;
    if (lock_fd_ < 0) {
        lock_fd_ = ::open(lock_file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        // No event says when another holder lets go of a flock: try again until the deadline.
        while (lock_fd_ >= 0 && ::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0 && left().count() > 0)
            ::poll(nullptr, 0, 100);
        if (lock_fd_ < 0 || ::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
            error_ = "another system-mode test libvirtd holds " + lock_file;
            return Started::DaemonFailed;
        }
    }

    // Everything the child needs is made before fork: after it, only system calls.
    const std::string conf = dir_ + "/libvirtd.conf", pid_file = dir_ + "/libvirtd.pid";
    const std::string log_file = dir_ + "/libvirtd.log";
    const bool own_network = options_.own_network;
    // TCP listeners need --listen (without socket activation).
    std::vector<const char*> argv{libvirtd, "-f", conf.c_str(), "-p", pid_file.c_str()};
    if (options_.listen_tcp)
        argv.push_back("--listen");
    argv.push_back(nullptr);
    const std::vector<std::pair<std::string, std::string>> binds = {{dir_ + "/etc", "/etc/libvirt"},
                                                                    {dir_ + "/run", "/run/libvirt"},
                                                                    {dir_ + "/lib", "/var/lib/libvirt"},
                                                                    {dir_ + "/log", "/var/log/libvirt"},
                                                                    {cache_dir, "/var/cache/libvirt"}};
    std::vector<std::string> env_strings{"LIBVIRT_DRIVER_DIR=" + dir_ + "/drivers"};
    for (char** e = environ; *e != nullptr; ++e)
        if (const std::string_view var{*e}; !var.starts_with("LIBVIRT_DRIVER_DIR=") && !var.starts_with("NOTIFY_SOCKET="))
            env_strings.emplace_back(var);
    std::vector<char*> envp;
    for (std::string& s : env_strings)
        envp.push_back(s.data());
    envp.push_back(nullptr);

    pid_ = ::fork();
    if (pid_ == 0) {
        const int out = ::open(log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        ::dup2(out, 1);
        ::dup2(out, 2);
        // Its own mount namespace, private so nothing propagates back to the root's mounts (and
        // its own network namespace when asked).
        if (::unshare(CLONE_NEWNS | (own_network ? CLONE_NEWNET : 0)) != 0 ||
            ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
            say("phyllome: no private mount namespace: ", std::strerror(errno));
            ::_exit(126);
        }
        for (const auto& [source, target] : binds) {
            ::mkdir(target.c_str(), 0755);
            if (::mount(source.c_str(), target.c_str(), nullptr, MS_BIND, nullptr) != 0) {
                say("phyllome: cannot bind-mount over ", target.c_str());
                ::_exit(126);
            }
        }
        ::execve(libvirtd, const_cast<char* const*>(argv.data()), envp.data());
        say("phyllome: cannot run ", libvirtd);
        ::_exit(127);
    }
    if (pid_ < 0) {
        error_ = std::string{"fork: "} + std::strerror(errno);
        return Started::DaemonFailed;
    }
    pidfd_ = pidfd_open(pid_);

    const std::string socket = dir_ + "/sock/libvirt-sock";
    bool listening = false;
    while (!(listening = unix_socket_accepts(socket)) && left().count() > 0)
        if (exits_within(pidfd_, std::min(left(), std::chrono::milliseconds{50}))) {
            error_ = "libvirtd exited while starting";
            stop();
            return rejected_config() ? Started::OurFault : Started::DaemonFailed;
        }
    if (!listening) {
        error_ = "libvirtd did not listen in time";
        stop();
        return Started::DaemonFailed;
    }

    // It listens before its drivers are up (QEMU probed, secrets loaded); a connection to
    // qemu:///system is answered once they are.
    std::future<std::string> opened = std::async(std::launch::async, [uri = uri()] {
        virConnectPtr connection = virConnectOpen(uri.c_str());
        if (connection == nullptr) {
            const virError* e = virGetLastError();
            return std::string{e != nullptr && e->message != nullptr ? e->message : "unknown error"};
        }
        virConnectClose(connection);
        return std::string{};
    });
    while (opened.wait_for(std::chrono::seconds{0}) != std::future_status::ready && left().count() > 0)
        if (exits_within(pidfd_, std::min(left(), std::chrono::milliseconds{50})))
            break;
    if (opened.wait_for(std::chrono::seconds{0}) != std::future_status::ready) {
        error_ = "libvirtd's drivers did not come up in time, or it exited";
        stop(); // the connection attempt ends with the daemon
        opened.get();
        return Started::DaemonFailed;
    }
    if (std::string failed = opened.get(); !failed.empty()) {
        const bool died = exits_within(pidfd_, std::chrono::milliseconds{0});
        error_ = "cannot open " + uri() + ": " + failed;
        stop();
        return died && !rejected_config() ? Started::DaemonFailed : Started::OurFault;
    }
    return Started::Ok;
}

bool SystemLibvirtd::stop() {
    if (pid_ <= 0)
        return true;
    ::kill(pid_, SIGTERM);
    const bool exited = pidfd_ >= 0 && exits_within(pidfd_, std::chrono::seconds{20});
    if (!exited)
        ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    if (pidfd_ >= 0)
        ::close(pidfd_);
    pidfd_ = -1;
    pid_ = -1;
    return exited;
}

void SystemLibvirtd::kill_left_qemus() const {
    // libvirtd leaves its guests running when it stops; a failed test may leave one: its
    // pid file is in our /run/libvirt/qemu.
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(dir_ + "/run/qemu", ec)) {
        if (entry.path().extension() != ".pid")
            continue;
        const pid_t pid = static_cast<pid_t>(std::atoi(read_all(entry.path()).c_str()));
        if (pid <= 0 || read_all("/proc/" + std::to_string(pid) + "/cmdline").find("qemu-system") == std::string::npos)
            continue;
        const int fd = pidfd_open(pid);
        ::kill(pid, SIGKILL);
        if (fd >= 0) {
            exits_within(fd, std::chrono::seconds{10});
            ::close(fd);
        }
    }
}

bool SystemLibvirtd::rejected_config() const {
    // libvirt names the file it could not use in its error.
    const std::string text = log();
    return text.find("libvirtd.conf") != std::string::npos || text.find("qemu.conf") != std::string::npos;
}

std::string SystemLibvirtd::log() const { return read_all(dir_ + "/libvirtd.log"); }

std::string SystemLibvirtd::guest_log(const std::string& guest) const {
    return read_all(dir_ + "/log/qemu/" + guest + ".log");
}

TestStart start_for_test(std::optional<SystemLibvirtd>& daemon) {
    if (std::string why = SystemLibvirtd::unavailable(); !why.empty())
        return {why, {}};
    if (!fs::exists("/usr/bin/qemu-system-x86_64"))
        return {"QEMU is missing", {}};
    if (std::system("command -v qemu-img > /dev/null") != 0)
        return {"qemu-img (qemu-utils) is missing", {}};
    daemon.emplace();
    switch (daemon->start()) {
    case SystemLibvirtd::Started::Ok:
        return {};
    case SystemLibvirtd::Started::DaemonFailed:
        // This machine's libvirtd would not run here (a build root without what it needs).
        return {"the private system libvirtd did not come up: " + daemon->error() + "\n" + daemon->log(), {}};
    case SystemLibvirtd::Started::OurFault:
        break;
    }
    return {{}, "the private libvirtd rejected our configuration or serves no QEMU driver: " + daemon->error() +
                    "\n" + daemon->log()};
}

} // namespace phyllome::guestview::testing
