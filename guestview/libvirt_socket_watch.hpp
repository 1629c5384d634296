// Reconnecting to a local libvirt daemon the moment it is back. A client reaches libvirtd (or
// virtqemud) through a unix socket the daemon creates when it starts and removes when it stops,
// so inotify on the socket's directory says "back" at once and costs no wakeups while waiting;
// timed backoff stays for remote URIs, where nothing can be watched.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "guestview/event_source.hpp"
#include "guestview/owned_fd.hpp"

struct wl_event_loop;

namespace phyllome::guestview {

// The directory of the unix socket libvirt's client uses for `uri`, or empty when the URI does
// not go through a local socket: another host, a tcp/tls/ssh transport, or a driver that runs
// inside the client (test:///default, qemu:///embed). `socket=` in the query wins; otherwise the
// system daemons' /run/libvirt or the session daemons' $XDG_RUNTIME_DIR/libvirt.
std::string libvirt_socket_directory(std::string_view uri, bool root);

// Calls `appeared` on the loop each time a daemon socket (a name ending in "-sock") is created
// in, or moved into, `directory`.
class LibvirtSocketWatch {
public:
    LibvirtSocketWatch(wl_event_loop* loop, std::string directory, std::function<void()> appeared);
    LibvirtSocketWatch(const LibvirtSocketWatch&) = delete;
    LibvirtSocketWatch& operator=(const LibvirtSocketWatch&) = delete;

    // False when the directory could not be watched (it does not exist, or inotify failed):
    // the caller's backoff timer is then all there is. `problem` says why.
    bool watching() const { return source_ != nullptr; }
    const std::string& problem() const { return problem_; }
    const std::string& directory() const { return directory_; }

private:
    static int on_readable(int fd, std::uint32_t mask, void* data);

    std::string directory_;
    std::function<void()> appeared_;
    std::string problem_;
    OwnedFd inotify_;
    EventSourcePtr source_;
};

} // namespace phyllome::guestview
