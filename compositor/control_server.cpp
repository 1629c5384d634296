#include "compositor/control_server.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <fmt/format.h>
#include <wayland-server-core.h>

#include "config/log.hpp"

namespace phyllome::compositor {

struct ControlServer::Client {
    ControlServer* server;
    guestview::OwnedFd fd;
    wl_event_source* source = nullptr;
    std::string in;
    std::string out;
    bool request_seen = false;
    bool reply_ready = false;
};

ControlServer::ControlServer(wl_event_loop* loop, std::string path, Handler handler)
    : loop_(loop), path_(std::move(path)), handler_(std::move(handler)) {
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
    listen_source_ = wl_event_loop_add_fd(loop_, listen_fd_.get(), WL_EVENT_READABLE, on_listen_readable, this);
}

ControlServer::~ControlServer() {
    for (auto& [fd, c] : clients_)
        if (c->source)
            wl_event_source_remove(c->source);
    clients_.clear();
    if (listen_source_)
        wl_event_source_remove(listen_source_);
    ::unlink(path_.c_str());
}

int ControlServer::on_listen_readable(int, uint32_t, void* data) {
    static_cast<ControlServer*>(data)->accept_client();
    return 0;
}

void ControlServer::accept_client() {
    for (;;) {
        int fd = ::accept4(listen_fd_.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd < 0)
            return;
        guestview::OwnedFd owned(fd);
        ucred cred{};
        socklen_t len = sizeof cred;
        if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || cred.uid != ::getuid()) {
            log::warn("control: refused a connection from uid {}", cred.uid);
            continue;
        }
        if (clients_.size() >= max_clients) {
            log::warn("control: too many clients, refusing one");
            continue;
        }
        auto c = std::make_shared<Client>();
        c->server = this;
        c->fd = std::move(owned);
        c->source = wl_event_loop_add_fd(loop_, fd, WL_EVENT_READABLE, on_client_event, c.get());
        clients_[fd] = std::move(c);
    }
}

int ControlServer::on_client_event(int, uint32_t mask, void* data) {
    auto* c = static_cast<Client*>(data);
    c->server->handle_client(*c, mask);
    return 0;
}

void ControlServer::handle_client(Client& c, uint32_t mask) {
    const int fd = c.fd.get();
    if (mask & (WL_EVENT_HANGUP | WL_EVENT_ERROR)) {
        close_client(fd);
        return;
    }
    if ((mask & WL_EVENT_READABLE) && !c.request_seen) {
        char buf[1024];
        ssize_t n = ::read(fd, buf, sizeof buf);
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
        c.request_seen = true;
        // Stop reading: a half-closed client would otherwise wake us forever while we wait.
        wl_event_source_fd_update(c.source, 0);
        std::weak_ptr<Client> weak = clients_[fd];
        Reply reply = [this, weak](bool ok, std::string body) {
            auto client = weak.lock();
            if (!client)
                return; // phyllomectl went away before the action finished
            client->out = (ok ? "ok\n" : "error\n") + body;
            client->reply_ready = true;
            // Most replies fit the socket buffer: send now, so a reply is out even if the
            // loop stops right after (quit).
            ssize_t n = ::send(client->fd.get(), client->out.data(), client->out.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
            if (n > 0)
                client->out.erase(0, static_cast<std::size_t>(n));
            if (client->out.empty() || (n < 0 && errno != EAGAIN && errno != EINTR)) {
                // Safe inside handle_client too: it touches the client no more after the handler,
                // and `client` keeps it alive until we return.
                close_client(client->fd.get());
                return;
            }
            wl_event_source_fd_update(client->source, WL_EVENT_WRITABLE);
        };
        if (nl == std::string::npos) {
            reply(false, fmt::format("request longer than {} bytes\n", control::max_request));
            return;
        }
        auto parsed = control::parse_request(std::string_view(c.in).substr(0, nl));
        if (auto* err = std::get_if<std::string>(&parsed))
            reply(false, *err + "\n");
        else
            handler_(std::get<control::Request>(parsed), reply);
        return;
    }
    if ((mask & WL_EVENT_WRITABLE) && c.reply_ready) {
        ssize_t n = ::send(fd, c.out.data(), c.out.size(), MSG_NOSIGNAL);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        if (n > 0)
            c.out.erase(0, static_cast<std::size_t>(n));
        if (n < 0 || c.out.empty())
            close_client(fd);
    }
}

void ControlServer::close_client(int fd) {
    auto it = clients_.find(fd);
    if (it == clients_.end())
        return;
    if (it->second->source)
        wl_event_source_remove(it->second->source);
    clients_.erase(it);
}

} // namespace phyllome::compositor
