// One end of the shell-agent socket (agent_protocol.hpp) on a wl_event_loop: never blocks.
// Outgoing frames are queued and written as the socket takes them, each with at most one fd
// (SCM_RIGHTS); incoming bytes are cut into frames and received fds are queued for take_fd().
//
// Both buffers are bounded: a frame over max_frame_size, or more than `max_queued` bytes waiting
// to be written, ends the channel like a hang-up. After `closed` has run nothing more is read or
// written. Handlers may destroy the channel.
#pragma once

#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "guestview/event_source.hpp"
#include "guestview/owned_fd.hpp"

struct wl_event_loop;

namespace phyllome::guestview::agent {

class Channel {
public:
    struct Handlers {
        // A whole frame's body; return false when it is malformed (the channel then closes).
        std::function<bool(std::string_view body)> frame;
        // Once: the peer hung up, a read or write failed, or a frame or queue was too big.
        std::function<void(std::string reason)> closed;
    };

    // Takes `socket` (non-blocking is set here). Throws std::system_error when it cannot be
    // watched.
    Channel(wl_event_loop* loop, OwnedFd socket, Handlers handlers, std::size_t max_queued);
    ~Channel();
    Channel(const Channel&) = delete;
    Channel& operator=(const Channel&) = delete;

    // Queues one encoded frame (with `fd`, which the channel then owns) and writes what it can.
    void send(std::string frame, OwnedFd fd = {});
    // The oldest fd received and not taken yet; empty when none is queued.
    OwnedFd take_fd();
    bool open() const { return !closed_; }
    std::size_t queued_bytes() const { return queued_; }

private:
    struct Outgoing {
        std::string bytes;
        std::size_t written = 0;
        OwnedFd fd; // sent with the first byte
    };

    static int on_event(int fd, std::uint32_t mask, void* data);
    void read_some();
    void write_some();
    void close(std::string reason);
    void update_mask();

    OwnedFd socket_;
    Handlers handlers_;
    std::size_t max_queued_;
    EventSourcePtr source_;
    std::string in_;
    std::deque<OwnedFd> fds_in_;
    std::deque<Outgoing> out_;
    std::size_t queued_ = 0;
    bool closed_ = false;
    bool want_write_ = false;
    // Lets the event handler notice that a handler destroyed the channel.
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

} // namespace phyllome::guestview::agent
