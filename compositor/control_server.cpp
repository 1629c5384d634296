#include "compositor/control_server.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <vector>

#include <fmt/format.h>
#include <wayland-server-core.h>

#include "config/log.hpp"

namespace phyllome::compositor {

struct ControlServer::Client {
    ControlServer* server;
    guestview::OwnedFd fd;
    guestview::EventSourcePtr source; // removed before fd closes
    // request_timeout before the request, send_timeout while a reply waits; none in between.
    std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
    std::string in;
    std::string out;
    bool request_seen = false;
    bool reply_ready = false;
};

namespace {

using Clock = std::chrono::steady_clock;
constexpr Clock::time_point no_deadline = Clock::time_point::max();

} // namespace

ControlServer::ControlServer(wl_event_loop* loop, std::string path, Handler handler)
    : ControlServer(loop, std::move(path), std::move(handler), Limits{}) {}

ControlServer::ControlServer(wl_event_loop* loop, std::string path, Handler handler, Limits limits)
    : loop_(loop), path_(std::move(path)), handler_(std::move(handler)), limits_(limits),
      bucket_(limits.requests_per_second, limits.burst, std::chrono::steady_clock::now()) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path_.size() >= sizeof(addr.sun_path))
        throw std::runtime_error(fmt::format("control socket path too long: {}", path_));
    std::memcpy(addr.sun_path, path_.c_str(), path_.size() + 1);

    listen_fd_.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (listen_fd_.get() < 0)
        throw std::runtime_error(fmt::format("control socket: {}", std::strerror(errno)));
    // A socket left by a crashed shell would make bind fail; one that answers belongs to a live shell.
    if (::connect(listen_fd_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0)
        throw std::runtime_error(fmt::format("another phyllome-shell is listening on {}", path_));
    listen_fd_.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    ::unlink(path_.c_str());
    // umask covers the window between bind and chmod.
    mode_t old = ::umask(0177);
    int rc = ::bind(listen_fd_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::umask(old);
    if (rc != 0 || ::chmod(path_.c_str(), 0600) != 0 || ::listen(listen_fd_.get(), 8) != 0)
        throw std::runtime_error(fmt::format("control socket {}: {}", path_, std::strerror(errno)));
    listen_source_.reset(wl_event_loop_add_fd(loop_, listen_fd_.get(), WL_EVENT_READABLE, on_listen_readable, this));
    // One timer for every client's deadline: a timerfd each would double the fds a client costs.
    deadline_timer_.reset(wl_event_loop_add_timer(loop_, on_deadline_timer, this));
}

ControlServer::~ControlServer() {
    clients_.clear();
    deadline_timer_.reset();
    listen_source_.reset();
    ::unlink(path_.c_str());
}

int ControlServer::on_listen_readable(int, uint32_t, void* data) {
    static_cast<ControlServer*>(data)->accept_client();
    return 0;
}

void ControlServer::warn_refused(const std::string& what, unsigned long count) {
    const auto now = std::chrono::steady_clock::now();
    if (now - last_warning_ < std::chrono::seconds(1))
        return;
    last_warning_ = now;
    log::warn("control: {} ({} so far)", what, count);
}

void ControlServer::send_and_forget(int fd, const std::string& message) {
    // Best effort on a fresh socket: its buffer takes a short line; never wait for it.
    [[maybe_unused]] ssize_t n = ::send(fd, message.data(), message.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
}

void ControlServer::accept_client() {
    for (;;) {
        int fd = ::accept4(listen_fd_.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd < 0)
            return; // EAGAIN: done; EMFILE and the like: the next readable event retries
        guestview::OwnedFd owned(fd);
        ucred cred{};
        socklen_t len = sizeof cred;
        if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || cred.uid != ::getuid()) {
            ++counters_.refused_uid;
            warn_refused(fmt::format("refused a connection from uid {} (pid {}): only uid {} may control this shell",
                                     cred.uid, cred.pid, ::getuid()),
                         counters_.refused_uid);
            continue;
        }
        if (clients_.size() >= limits_.max_clients) {
            ++counters_.refused_full;
            send_and_forget(fd, fmt::format("error\nbusy: {} connections are open already\n", clients_.size()));
            warn_refused("too many connections, refusing more", counters_.refused_full);
            continue;
        }
        auto c = std::make_shared<Client>();
        c->server = this;
        c->fd = std::move(owned);
        c->source.reset(wl_event_loop_add_fd(loop_, fd, WL_EVENT_READABLE, on_client_event, c.get()));
        if (!c->source)
            continue;
        Client& client = *c;
        clients_[fd] = std::move(c);
        set_deadline(client, Clock::now() + limits_.request_timeout);
    }
}

void ControlServer::set_deadline(Client& c, Clock::time_point deadline) {
    c.deadline = deadline;
    arm_deadline_timer();
}

void ControlServer::arm_deadline_timer() {
    if (!deadline_timer_)
        return;
    auto earliest = no_deadline;
    for (const auto& [fd, c] : clients_)
        earliest = std::min(earliest, c->deadline);
    if (earliest == no_deadline) {
        wl_event_source_timer_update(deadline_timer_.get(), 0);
        return;
    }
    const auto ms = std::chrono::ceil<std::chrono::milliseconds>(earliest - Clock::now()).count();
    wl_event_source_timer_update(deadline_timer_.get(), static_cast<int>(std::clamp<long long>(ms, 1, 1 << 30)));
}

int ControlServer::on_client_event(int, uint32_t mask, void* data) {
    auto* c = static_cast<Client*>(data);
    c->server->handle_client(*c, mask);
    return 0;
}

int ControlServer::on_deadline_timer(void* data) {
    auto* self = static_cast<ControlServer*>(data);
    const auto now = Clock::now();
    std::vector<int> expired;
    for (const auto& [fd, c] : self->clients_)
        if (c->deadline <= now)
            expired.push_back(fd);
    for (int fd : expired) {
        auto it = self->clients_.find(fd);
        if (it == self->clients_.end())
            continue;
        ++self->counters_.timed_out;
        if (!it->second->request_seen) {
            self->send_and_forget(fd, fmt::format("error\ntimeout: no request within {} ms\n",
                                                   self->limits_.request_timeout.count()));
            self->warn_refused("closed a connection that sent no request in time", self->counters_.timed_out);
        } else {
            self->warn_refused("closed a connection that did not read its reply", self->counters_.timed_out);
        }
        self->close_client(fd);
    }
    self->arm_deadline_timer();
    return 0;
}

void ControlServer::handle_client(Client& c, uint32_t mask) {
    const int fd = c.fd.get();
    if (mask & (WL_EVENT_HANGUP | WL_EVENT_ERROR)) {
        close_client(fd);
        return;
    }
    if ((mask & WL_EVENT_READABLE) && !c.request_seen) {
        // Never hold more than one request line (and its newline) per connection.
        char buf[1024];
        const std::size_t room = control::max_request + 1 - c.in.size();
        ssize_t n = ::read(fd, buf, std::min(sizeof buf, room));
        if (n <= 0) {
            if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return;
            close_client(fd);
            return;
        }
        c.in.append(buf, static_cast<std::size_t>(n));
        auto nl = c.in.find('\n');
        if (nl == std::string::npos && c.in.size() <= control::max_request)
            return;
        start_request(c, nl);
        return;
    }
    if ((mask & WL_EVENT_WRITABLE) && c.reply_ready) {
        ssize_t n = ::send(fd, c.out.data(), c.out.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        if (n > 0) {
            c.out.erase(0, static_cast<std::size_t>(n));
            c.deadline = Clock::now() + limits_.send_timeout; // the timer finds it when it fires
        }
        if (n < 0 || c.out.empty())
            close_client(fd);
    }
}

void ControlServer::start_request(Client& c, std::size_t nl) {
    const int fd = c.fd.get();
    c.request_seen = true;
    // Stop reading: a half-closed client would otherwise wake us forever while we wait. The
    // request timer stops too: an action (start a guest) takes as long as it takes.
    wl_event_source_fd_update(c.source.get(), 0);
    set_deadline(c, no_deadline);
    std::weak_ptr<Client> weak = clients_[fd];
    Reply reply = [this, weak](bool ok, std::string body) {
        auto client = weak.lock();
        if (!client)
            return; // phyllomectl went away before the action finished
        client->out = (ok ? "ok\n" : "error\n") + body;
        client->reply_ready = true;
        // Most replies fit the socket buffer: send now, so a reply is out even if the
        // loop stops right after (quit). The socket is non-blocking: a big reply (a
        // screenshot) goes out in pieces as the client reads.
        ssize_t n = ::send(client->fd.get(), client->out.data(), client->out.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0)
            client->out.erase(0, static_cast<std::size_t>(n));
        if (client->out.empty() || (n < 0 && errno != EAGAIN && errno != EINTR)) {
            // Safe inside handle_client too: it touches the client no more after the handler,
            // and `client` keeps it alive until we return.
            close_client(client->fd.get());
            return;
        }
        wl_event_source_fd_update(client->source.get(), WL_EVENT_WRITABLE);
        set_deadline(*client, Clock::now() + limits_.send_timeout);
    };
    if (nl == std::string::npos) {
        ++counters_.too_long;
        warn_refused("refused a request with no newline within the size limit", counters_.too_long);
        reply(false, fmt::format("request longer than {} bytes\n", control::max_request));
        return;
    }
    // Checked before parsing: over the rate, the request costs us nothing more.
    if (!bucket_.take(std::chrono::steady_clock::now())) {
        ++counters_.busy;
        warn_refused("too many requests, answering busy", counters_.busy);
        reply(false, "busy: too many requests\n");
        return;
    }
    auto parsed = control::parse_request(std::string_view(c.in).substr(0, nl));
    c.in.clear();
    c.in.shrink_to_fit();
    if (auto* err = std::get_if<std::string>(&parsed)) {
        reply(false, *err + "\n");
        return;
    }
    ++counters_.served;
    handler_(std::get<control::Request>(parsed), reply);
}

void ControlServer::close_client(int fd) {
    auto it = clients_.find(fd);
    if (it == clients_.end())
        return;
    clients_.erase(it);
}

} // namespace phyllome::compositor
