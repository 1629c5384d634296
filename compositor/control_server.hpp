// The shell's end of the control socket (phyllomectl). Runs on the wl_event_loop; no wlroots.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "compositor/control_protocol.hpp"
#include "guestview/owned_fd.hpp"

struct wl_event_loop;
struct wl_event_source;

namespace phyllome::compositor {

class ControlServer {
public:
    // Replies "ok" with body, or "error" with body; the body goes out as it is (text ends in '\n').
    using Reply = std::function<void(bool ok, std::string body)>;
    // Called for every well-formed request; may reply later (after a libvirt action finished).
    using Handler = std::function<void(const control::Request&, Reply)>;

    // Binds `path` (mode 0600), replacing a stale socket. Throws std::runtime_error on failure.
    ControlServer(wl_event_loop* loop, std::string path, Handler handler);
    ~ControlServer();
    ControlServer(const ControlServer&) = delete;
    ControlServer& operator=(const ControlServer&) = delete;

    const std::string& path() const { return path_; }

    static constexpr std::size_t max_clients = 32;

private:
    struct Client;
    static int on_listen_readable(int fd, uint32_t mask, void* data);
    static int on_client_event(int fd, uint32_t mask, void* data);
    void accept_client();
    void handle_client(Client& c, uint32_t mask);
    void close_client(int fd);

    wl_event_loop* loop_;
    std::string path_;
    Handler handler_;
    guestview::OwnedFd listen_fd_;
    wl_event_source* listen_source_ = nullptr;
    std::map<int, std::shared_ptr<Client>> clients_;
};

} // namespace phyllome::compositor
