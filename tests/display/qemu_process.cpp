#include "tests/display/qemu_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <vector>

#include "tests/firmware/ovmf.hpp"

extern char** environ;

namespace phyllome::guestview::testing {
namespace {

std::string find_qemu() {
    const char* path = std::getenv("PATH");
    std::string dirs = path ? path : "/usr/bin:/bin";
    std::size_t start = 0;
    while (start <= dirs.size()) {
        const std::size_t end = std::min(dirs.find(':', start), dirs.size());
        std::string candidate = dirs.substr(start, end - start) + "/qemu-system-x86_64";
        if (::access(candidate.c_str(), X_OK) == 0)
            return candidate;
        start = end + 1;
    }
    return {};
}

int remaining_ms(std::chrono::steady_clock::time_point deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    return left.count() > 0 ? static_cast<int>(left.count()) : 0;
}

} // namespace

std::string QemuProcess::missing_requirement() {
    if (find_qemu().empty())
        return "qemu-system-x86_64 is not installed";
    return test::ovmf_missing_reason();
}

QemuProcess::QemuProcess() {
    const auto firmware = test::find_ovmf();
    if (!firmware)
        throw std::runtime_error(test::ovmf_missing_reason());
    std::string tmpl = (std::filesystem::temp_directory_path() / "phyllome-qemu-XXXXXX").string();
    if (!::mkdtemp(tmpl.data()))
        throw std::runtime_error("mkdtemp failed");
    dir_ = tmpl;
    qmp_path_ = dir_ + "/qmp.sock";
    const std::string qemu = find_qemu();
    const std::string qmp = "unix:" + qmp_path_ + ",server=on,wait=off";
    std::vector<std::string> args = {qemu, "-accel", "tcg", "-machine", "q35", "-m", "256"};
    // The firmware as pflash, as libvirt loads it, with a private copy of its variables (in dir_,
    // removed with it): Debian 13 ships only the 4 MiB pair, which needs its own variable store.
    for (auto& arg : test::ovmf_pflash_args(*firmware, dir_ + "/vars.fd"))
        args.push_back(std::move(arg));
    args.insert(args.end(), {"-vga", "none", "-device", "virtio-gpu-pci", "-display", "dbus,p2p=on,gl=off",
                             "-nodefaults", "-qmp", qmp, "-name", "phyllome-display-test"});
    std::vector<char*> argv;
    for (auto& arg : args)
        argv.push_back(arg.data());
    argv.push_back(nullptr);
    if (int e = ::posix_spawn(&pid_, qemu.c_str(), nullptr, nullptr, argv.data(), environ); e != 0)
        throw std::runtime_error(std::string("cannot start QEMU: ") + std::strerror(e));
}

QemuProcess::~QemuProcess() {
    qmp_.reset();
    if (pid_ > 0) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
    }
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
}

void QemuProcess::connect_qmp(std::chrono::steady_clock::time_point deadline) {
    // Wait for QEMU to create the socket: inotify on the directory, no fixed sleeps.
    detail::UniqueFd watch(::inotify_init1(IN_CLOEXEC | IN_NONBLOCK));
    if (!watch || ::inotify_add_watch(watch.get(), dir_.c_str(), IN_CREATE) < 0)
        throw std::runtime_error("inotify failed");
    for (;;) {
        detail::UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
        sockaddr_un address{};
        address.sun_family = AF_UNIX;
        std::strncpy(address.sun_path, qmp_path_.c_str(), sizeof(address.sun_path) - 1);
        if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0) {
            qmp_ = std::move(fd);
            return;
        }
        if (errno != ENOENT && errno != ECONNREFUSED)
            throw std::runtime_error(std::string("connecting QMP: ") + std::strerror(errno));
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            throw std::runtime_error("QEMU exited before QMP was up");
        }
        // The socket may exist but not listen yet (ECONNREFUSED): wake at least every 50 ms then.
        pollfd p{watch.get(), POLLIN, 0};
        const int wait = errno == ECONNREFUSED ? std::min(50, remaining_ms(deadline)) : remaining_ms(deadline);
        if (remaining_ms(deadline) == 0)
            throw std::runtime_error("QMP socket did not appear");
        if (::poll(&p, 1, wait) > 0) {
            char events[4096];
            while (::read(watch.get(), events, sizeof(events)) > 0) {
            }
        }
    }
}

std::string QemuProcess::read_line(std::chrono::steady_clock::time_point deadline) {
    for (;;) {
        if (auto newline = buffered_.find('\n'); newline != std::string::npos) {
            std::string line = buffered_.substr(0, newline);
            buffered_.erase(0, newline + 1);
            return line;
        }
        pollfd p{qmp_.get(), POLLIN, 0};
        if (::poll(&p, 1, remaining_ms(deadline)) <= 0)
            throw std::runtime_error("QMP timed out");
        char chunk[4096];
        const ssize_t n = ::read(qmp_.get(), chunk, sizeof(chunk));
        if (n <= 0)
            throw std::runtime_error("QMP closed");
        buffered_.append(chunk, std::size_t(n));
    }
}

std::string QemuProcess::command(const std::string& json, int pass_fd,
                                 std::chrono::steady_clock::time_point deadline) {
    iovec iov{const_cast<char*>(json.data()), json.size()};
    msghdr message{};
    message.msg_iov = &iov;
    message.msg_iovlen = 1;
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    if (pass_fd >= 0) {
        message.msg_control = control;
        message.msg_controllen = sizeof(control);
        cmsghdr* header = CMSG_FIRSTHDR(&message);
        header->cmsg_level = SOL_SOCKET;
        header->cmsg_type = SCM_RIGHTS;
        header->cmsg_len = CMSG_LEN(sizeof(int));
        std::memcpy(CMSG_DATA(header), &pass_fd, sizeof(int));
    }
    if (::sendmsg(qmp_.get(), &message, MSG_NOSIGNAL) != ssize_t(json.size()))
        throw std::runtime_error("QMP send failed");
    for (;;) { // skip asynchronous events
        std::string line = read_line(deadline);
        if (line.find("\"return\"") != std::string::npos)
            return line;
        if (line.find("\"error\"") != std::string::npos)
            throw std::runtime_error("QMP error: " + line);
    }
}

int QemuProcess::open_graphics_fd(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    connect_qmp(deadline);
    read_line(deadline); // greeting
    command(R"({"execute":"qmp_capabilities"})", -1, deadline);
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
        throw std::runtime_error("socketpair failed");
    detail::UniqueFd ours(sv[0]), theirs(sv[1]);
    command(R"({"execute":"getfd","arguments":{"fdname":"graphicsfd"}})", theirs.get(), deadline);
    command(R"({"execute":"add_client","arguments":{"protocol":"@dbus-display","fdname":"graphicsfd"}})", -1,
            deadline);
    return ours.release();
}

} // namespace phyllome::guestview::testing
