#include "guestview/agent_channel.hpp"

#include <array>
#include <cerrno>
#include <cstring>
#include <system_error>

#include <fcntl.h>
#include <sys/socket.h>

#include <fmt/format.h>
#include <wayland-server-core.h>

#include "guestview/agent_protocol.hpp"

namespace phyllome::guestview::agent {
namespace {

// Per wakeup: enough for a big screenshot to arrive in a few iterations without one read
// keeping the loop from everything else.
constexpr std::size_t read_chunk = 256 * 1024;
constexpr int reads_per_wakeup = 8;
// Fds one recvmsg can carry: the peer sends at most one per frame, several frames may arrive.
constexpr std::size_t max_fds_per_read = 16;

} // namespace

Channel::Channel(wl_event_loop* loop, OwnedFd socket, Handlers handlers, std::size_t max_queued)
    : socket_(std::move(socket)), handlers_(std::move(handlers)), max_queued_(max_queued) {
    const int flags = fcntl(socket_.get(), F_GETFL);
    if (flags < 0 || fcntl(socket_.get(), F_SETFL, flags | O_NONBLOCK) < 0)
        throw std::system_error(errno, std::generic_category(), "fcntl(O_NONBLOCK)");
    source_.reset(wl_event_loop_add_fd(loop, socket_.get(), WL_EVENT_READABLE, &on_event, this));
    if (!source_)
        throw std::system_error(errno, std::generic_category(), "wl_event_loop_add_fd");
}

Channel::~Channel() { *alive_ = false; }

void Channel::send(std::string frame, OwnedFd fd) {
    if (closed_)
        return;
    queued_ += frame.size();
    out_.push_back(Outgoing{std::move(frame), 0, std::move(fd)});
    if (!want_write_) // else the loop writes when the socket has room again
        write_some();
    if (!closed_ && queued_ > max_queued_)
        close(fmt::format("more than {} bytes waiting to be sent: the peer stopped reading", max_queued_));
}

OwnedFd Channel::take_fd() {
    if (fds_in_.empty())
        return {};
    OwnedFd fd = std::move(fds_in_.front());
    fds_in_.pop_front();
    return fd;
}

int Channel::on_event(int, std::uint32_t mask, void* data) {
    auto* self = static_cast<Channel*>(data);
    const std::shared_ptr<bool> alive = self->alive_;
    if (mask & WL_EVENT_WRITABLE)
        self->write_some();
    if (*alive && !self->closed_ && (mask & WL_EVENT_READABLE))
        self->read_some();
    if (*alive && !self->closed_ && (mask & (WL_EVENT_HANGUP | WL_EVENT_ERROR)) && !(mask & WL_EVENT_READABLE))
        self->close("the peer hung up");
    return 0;
}

void Channel::read_some() {
    const std::shared_ptr<bool> alive = alive_;
    for (int round = 0; round < reads_per_wakeup; ++round) {
        const std::size_t old_size = in_.size();
        in_.resize(old_size + read_chunk);
        alignas(cmsghdr) std::array<char, CMSG_SPACE(sizeof(int) * max_fds_per_read)> control{};
        iovec iov{in_.data() + old_size, read_chunk};
        msghdr msg{};
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control.data();
        msg.msg_controllen = control.size();
        const ssize_t n = recvmsg(socket_.get(), &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
        in_.resize(old_size + (n > 0 ? static_cast<std::size_t>(n) : 0));
        if (n > 0) {
            for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
                if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
                    continue;
                const std::size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                for (std::size_t i = 0; i < count; ++i) {
                    int fd = -1;
                    std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
                    fds_in_.emplace_back(fd);
                }
            }
            if (msg.msg_flags & MSG_CTRUNC)
                return close("too many file descriptors in one read");
        } else if (n == 0) {
            break; // the frames already read still count; then the hang-up
        } else if (errno == EINTR) {
            continue;
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            break;
        } else {
            return close(fmt::format("cannot read: {}", std::strerror(errno)));
        }
        if (n < static_cast<ssize_t>(read_chunk))
            break;
    }

    // Whole frames, in order.
    std::size_t offset = 0;
    while (true) {
        const std::string_view rest = std::string_view{in_}.substr(offset);
        const auto length = frame_length(rest);
        if (!length)
            break;
        if (*length == 0 || *length > max_frame_size) {
            return close(fmt::format("a frame of {} bytes (at most {})", *length, max_frame_size));
        }
        if (rest.size() < frame_header_size + *length)
            break;
        const std::string_view body = rest.substr(frame_header_size, *length);
        offset += frame_header_size + *length;
        if (!handlers_.frame(body)) {
            if (*alive && !closed_)
                close("a malformed message");
            return;
        }
        if (!*alive || closed_)
            return;
    }
    in_.erase(0, offset);

    // A read of 0 bytes: after the frames it completed, the peer is gone.
    char probe = 0;
    const ssize_t n = recv(socket_.get(), &probe, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n == 0)
        close(in_.empty() ? "the peer hung up" : "the peer hung up inside a frame");
}

void Channel::write_some() {
    while (!out_.empty()) {
        Outgoing& next = out_.front();
        iovec iov{next.bytes.data() + next.written, next.bytes.size() - next.written};
        msghdr msg{};
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        alignas(cmsghdr) std::array<char, CMSG_SPACE(sizeof(int))> control{};
        if (next.fd.get() >= 0) {
            msg.msg_control = control.data();
            msg.msg_controllen = control.size();
            cmsghdr* c = CMSG_FIRSTHDR(&msg);
            c->cmsg_level = SOL_SOCKET;
            c->cmsg_type = SCM_RIGHTS;
            c->cmsg_len = CMSG_LEN(sizeof(int));
            const int fd = next.fd.get();
            std::memcpy(CMSG_DATA(c), &fd, sizeof fd);
        }
        const ssize_t n = sendmsg(socket_.get(), &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            return close(fmt::format("cannot write: {}", std::strerror(errno)));
        }
        next.fd.reset(); // the peer has its own copy now
        next.written += static_cast<std::size_t>(n);
        queued_ -= static_cast<std::size_t>(n);
        if (next.written == next.bytes.size())
            out_.pop_front();
    }
    update_mask();
}

void Channel::update_mask() {
    const bool want = !out_.empty();
    if (want == want_write_ || !source_)
        return;
    want_write_ = want;
    wl_event_source_fd_update(source_.get(), WL_EVENT_READABLE | (want ? WL_EVENT_WRITABLE : 0));
}

void Channel::close(std::string reason) {
    if (closed_)
        return;
    closed_ = true;
    source_.reset();
    out_.clear();
    queued_ = 0;
    socket_.reset();
    if (handlers_.closed)
        handlers_.closed(std::move(reason)); // last: it may destroy us
}

} // namespace phyllome::guestview::agent
