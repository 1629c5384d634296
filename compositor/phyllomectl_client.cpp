#include "compositor/phyllomectl_client.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "guestview/owned_fd.hpp"

namespace phyllome::compositor::ctl {

std::optional<Answer> exchange(const std::string& socket, const std::string& request, int timeout_ms,
                               std::string& error) {
    guestview::OwnedFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", socket.c_str());
    if (fd.get() < 0 || ::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        error = "cannot connect to " + socket + ": " + std::strerror(errno);
        return std::nullopt;
    }
    if (::send(fd.get(), request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size())) {
        error = "cannot send to " + socket + ": " + std::strerror(errno);
        return std::nullopt;
    }
    std::string reply;
    char buf[4096];
    pollfd p{fd.get(), POLLIN, 0};
    for (;;) {
        const int r = ::poll(&p, 1, timeout_ms);
        if (r < 0 && errno == EINTR)
            continue; // Ctrl+C while following a job: the caller looks at its flag after this answer
        if (r == 0) {
            error = "no answer from the shell within " + std::to_string(timeout_ms / 1000) + " s";
            return std::nullopt;
        }
        const ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        reply.append(buf, static_cast<std::size_t>(n));
    }
    const auto nl = reply.find('\n');
    if (nl == std::string::npos) {
        error = "the shell closed the connection without an answer";
        return std::nullopt;
    }
    return Answer{reply.compare(0, nl, "ok") == 0, reply.substr(nl + 1)};
}

} // namespace phyllome::compositor::ctl
