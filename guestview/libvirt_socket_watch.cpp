#include "guestview/libvirt_socket_watch.hpp"

#include <sys/inotify.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include <fmt/format.h>
#include <wayland-server-core.h>

#include "guestview/percent_decoding.hpp"

namespace phyllome::guestview {
namespace {

std::string_view query_value(std::string_view query, std::string_view key) {
    while (!query.empty()) {
        const std::size_t end = query.find('&');
        const std::string_view param = query.substr(0, end);
        if (param.size() > key.size() && param.starts_with(key) && param[key.size()] == '=')
            return param.substr(key.size() + 1);
        if (end == std::string_view::npos)
            break;
        query.remove_prefix(end + 1);
    }
    return {};
}

std::string session_directory() {
    if (const char* runtime = std::getenv("XDG_RUNTIME_DIR"); runtime != nullptr && runtime[0] == '/')
        return std::string{runtime} + "/libvirt";
    const char* home = std::getenv("HOME");
    return std::string{home != nullptr ? home : ""} + "/.cache/libvirt";
}

} // namespace

std::string libvirt_socket_directory(std::string_view uri, bool root) {
    const std::size_t scheme_end = uri.find("://");
    if (scheme_end == std::string_view::npos)
        return {};
    const std::string_view scheme = uri.substr(0, scheme_end);
    const std::size_t plus = scheme.find('+');
    const std::string_view driver = scheme.substr(0, plus);
    const std::string_view transport = plus == std::string_view::npos ? std::string_view{} : scheme.substr(plus + 1);
    std::string_view rest = uri.substr(scheme_end + 3);
    const std::size_t query_start = rest.find('?');
    const std::string_view query = query_start == std::string_view::npos ? std::string_view{} : rest.substr(query_start + 1);
    rest = rest.substr(0, query_start);
    const std::size_t path_start = rest.find('/');
    const std::string_view host = rest.substr(0, path_start);
    const std::string_view path = path_start == std::string_view::npos ? std::string_view{} : rest.substr(path_start);

    if (!transport.empty() && transport != "unix")
        return {};
    if (transport.empty() && (!host.empty() || driver == "test" || path == "/embed"))
        return {}; // another host, or a driver inside the client
    if (const std::string_view socket = query_value(query, "socket"); !socket.empty()) {
        const std::string decoded = percent_decode(socket);
        const std::size_t slash = decoded.rfind('/');
        return slash == std::string::npos ? std::string{"."} : decoded.substr(0, slash == 0 ? 1 : slash);
    }
    // libvirt's own rule: /session, and the test driver for ordinary users, talk to the session daemon.
    if (path == "/session" || (driver == "test" && !root))
        return session_directory();
    return "/run/libvirt";
}

LibvirtSocketWatch::LibvirtSocketWatch(wl_event_loop* loop, std::string directory, std::function<void()> appeared)
    : directory_(std::move(directory)), appeared_(std::move(appeared)) {
    inotify_.reset(inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
    if (inotify_.get() < 0) {
        problem_ = fmt::format("inotify: {}", std::strerror(errno));
        return;
    }
    if (inotify_add_watch(inotify_.get(), directory_.c_str(), IN_CREATE | IN_MOVED_TO | IN_ONLYDIR) < 0) {
        problem_ = fmt::format("cannot watch {}: {}", directory_, std::strerror(errno));
        return;
    }
    source_.reset(wl_event_loop_add_fd(loop, inotify_.get(), WL_EVENT_READABLE, &on_readable, this));
}

int LibvirtSocketWatch::on_readable(int fd, std::uint32_t, void* data) {
    auto* self = static_cast<LibvirtSocketWatch*>(data);
    bool socket_appeared = false;
    alignas(inotify_event) char buffer[4096];
    for (;;) {
        const ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n <= 0)
            break;
        for (ssize_t at = 0; at < n;) {
            const auto* event = reinterpret_cast<const inotify_event*>(buffer + at);
            const std::string_view name = event->len > 0 ? std::string_view{event->name} : std::string_view{};
            socket_appeared |= name.ends_with("-sock");
            at += static_cast<ssize_t>(sizeof(inotify_event) + event->len);
        }
    }
    if (socket_appeared && self->appeared_)
        self->appeared_(); // last: it may destroy this watch
    return 0;
}

} // namespace phyllome::guestview
