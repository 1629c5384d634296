// The shell's end of the control socket (phyllomectl). Runs on the wl_event_loop; no wlroots.
// Hardened against its own user's runaway scripts: only our uid may connect (SO_PEERCRED), and
// connections, request size, request rate and idle time are bounded, so a client can neither
// block the loop nor pin memory or fds.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "compositor/control_protocol.hpp"
#include "compositor/rate_limiter.hpp"
#include "guestview/event_source.hpp"
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

    struct Limits {
        std::size_t max_clients = 16;                       // beyond: refused at accept
        std::chrono::milliseconds request_timeout{2000};    // accept to a whole request line
        std::chrono::milliseconds send_timeout{10000};      // a reply that makes no progress
        // Beyond (after the burst): "busy". Above what a script forking phyllomectl in a tight
        // loop reaches (a few hundred a second), far below a raw socket flood (tens of thousands).
        double requests_per_second = 500;
        double burst = 1000;
    };

    // Binds `path` (mode 0600), replacing a stale socket. Throws std::runtime_error on failure.
    ControlServer(wl_event_loop* loop, std::string path, Handler handler);
    ControlServer(wl_event_loop* loop, std::string path, Handler handler, Limits limits);
    ~ControlServer();
    ControlServer(const ControlServer&) = delete;
    ControlServer& operator=(const ControlServer&) = delete;

    const std::string& path() const { return path_; }
    std::size_t client_count() const { return clients_.size(); }

    struct Counters {
        unsigned long served = 0;          // requests handed to the handler
        unsigned long refused_uid = 0;     // another user connected
        unsigned long refused_full = 0;    // max_clients reached
        unsigned long busy = 0;            // over the request rate
        unsigned long too_long = 0;        // no newline within max_request bytes
        unsigned long timed_out = 0;       // no request, or a reply nobody read, in time
    };
    const Counters& counters() const { return counters_; }

private:
    struct Client;
    static int on_listen_readable(int fd, uint32_t mask, void* data);
    static int on_client_event(int fd, uint32_t mask, void* data);
    static int on_deadline_timer(void* data);
    void accept_client();
    void handle_client(Client& c, uint32_t mask);
    void start_request(Client& c, std::size_t newline);
    void close_client(int fd);
    void set_deadline(Client& c, std::chrono::steady_clock::time_point deadline);
    void arm_deadline_timer();
    void send_and_forget(int fd, const std::string& message);
    // Says what was refused at most once a second, so a flood does not flood the log.
    void warn_refused(const std::string& what, unsigned long count);

    wl_event_loop* loop_;
    std::string path_;
    Handler handler_;
    Limits limits_;
    TokenBucket bucket_;
    guestview::OwnedFd listen_fd_;
    guestview::EventSourcePtr listen_source_;
    guestview::EventSourcePtr deadline_timer_;
    std::map<int, std::shared_ptr<Client>> clients_;
    Counters counters_;
    std::chrono::steady_clock::time_point last_warning_{};
};

} // namespace phyllome::compositor
