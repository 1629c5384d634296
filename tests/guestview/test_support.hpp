// Shared helpers for guestview tests: an owned event loop, pumping it until a condition holds,
// a temporary directory and a unix socket file.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <wayland-server-core.h>

namespace phyllome::guestview::testing {

struct LoopDestroyer {
    void operator()(wl_event_loop* loop) const { wl_event_loop_destroy(loop); }
};
using LoopPtr = std::unique_ptr<wl_event_loop, LoopDestroyer>;

inline LoopPtr make_loop() {
    LoopPtr loop{wl_event_loop_create()};
    if (!loop)
        throw std::runtime_error("wl_event_loop_create failed");
    return loop;
}

// Dispatches `loop` (blocking in epoll, never spinning) until `done()` or the deadline.
template <typename Predicate>
bool pump_until(wl_event_loop* loop, Predicate done,
                std::chrono::milliseconds timeout = std::chrono::seconds{10}) {
    using clock = std::chrono::steady_clock;
    const auto deadline = clock::now() + timeout;
    while (!done()) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
        if (left.count() <= 0)
            return false;
        wl_event_loop_dispatch(loop, static_cast<int>(std::min<long>(left.count(), 100) + 1));
    }
    return true;
}

// Dispatches `loop` for the whole duration, for asserting that something does NOT happen.
inline void pump_for(wl_event_loop* loop, std::chrono::milliseconds duration) {
    pump_until(loop, [] { return false; }, duration);
}

class TempDir {
public:
    TempDir() {
        std::string pattern = (std::filesystem::temp_directory_path() / "guestview-test-XXXXXX").string();
        if (mkdtemp(pattern.data()) == nullptr)
            throw std::runtime_error("mkdtemp failed");
        path_ = pattern;
    }
    ~TempDir() {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

// A unix socket file at `path`, like libvirtd leaves under /run/libvirt. listen() makes it take
// connections into its backlog without ever accepting or answering them: a hung daemon.
class SocketFile {
public:
    explicit SocketFile(const std::filesystem::path& path) : fd_(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
        std::filesystem::create_directories(path.parent_path());
        sockaddr_un address{};
        address.sun_family = AF_UNIX;
        const std::string name = path.string();
        if (fd_ < 0 || name.size() >= sizeof address.sun_path)
            throw std::runtime_error("cannot create a socket at " + name);
        name.copy(address.sun_path, name.size());
        if (bind(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0)
            throw std::runtime_error("cannot bind " + name);
    }
    ~SocketFile() { close(); }
    SocketFile(const SocketFile&) = delete;
    SocketFile& operator=(const SocketFile&) = delete;

    void listen() {
        if (::listen(fd_, 8) != 0)
            throw std::runtime_error("cannot listen");
    }
    // Closing a listening socket resets the connections waiting in its backlog.
    void close() {
        if (fd_ >= 0)
            ::close(fd_);
        fd_ = -1;
    }

private:
    int fd_;
};

// Whether a Unix socket at `path` takes a connection now: a daemon is up when it does.
inline bool unix_socket_accepts(const std::string& path) {
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return false;
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    path.copy(address.sun_path, sizeof(address.sun_path) - 1);
    const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
    ::close(fd);
    return ok;
}

} // namespace phyllome::guestview::testing
