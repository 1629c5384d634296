// RAII owners for the C handles guestview uses: sd-bus objects, fds, mappings and
// wl_event_loop sources. Internal to guestview/display and its tests.
#pragma once

#include <systemd/sd-bus.h>
#include <wayland-server-core.h>

#include <cstddef>
#include <memory>
#include <utility>

#include "guestview/display/mapping_guard.hpp"

namespace phyllome::guestview::detail {

struct BusUnref {
    // Close without flushing: sd_bus_flush blocks until the peer reads (or finishes auth),
    // and a hung QEMU must never stall the compositor. sd_bus_send already wrote what it could.
    void operator()(sd_bus* bus) const { sd_bus_close_unref(bus); }
};
struct SlotUnref {
    void operator()(sd_bus_slot* slot) const { sd_bus_slot_unref(slot); }
};
struct MessageUnref {
    void operator()(sd_bus_message* message) const { sd_bus_message_unref(message); }
};
struct EventSourceRemove {
    void operator()(wl_event_source* source) const { wl_event_source_remove(source); }
};

using BusPtr = std::unique_ptr<sd_bus, BusUnref>;
using SlotPtr = std::unique_ptr<sd_bus_slot, SlotUnref>;
using MessagePtr = std::unique_ptr<sd_bus_message, MessageUnref>;
using EventSourcePtr = std::unique_ptr<wl_event_source, EventSourceRemove>;

inline MessagePtr ref_message(sd_bus_message* message) {
    return MessagePtr(sd_bus_message_ref(message));
}

// An owned file descriptor.
class UniqueFd {
public:
    UniqueFd() = default;
    explicit UniqueFd(int fd) : fd_(fd) {}
    UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    UniqueFd& operator=(UniqueFd&& other) noexcept {
        if (this != &other)
            reset(std::exchange(other.fd_, -1));
        return *this;
    }
    ~UniqueFd() { reset(); }
    UniqueFd(const UniqueFd&) = delete;
    UniqueFd& operator=(const UniqueFd&) = delete;

    int get() const { return fd_; }
    explicit operator bool() const { return fd_ >= 0; }
    int release() { return std::exchange(fd_, -1); }
    void reset(int fd = -1);

private:
    int fd_ = -1;
};

// dup with F_DUPFD_CLOEXEC; an empty UniqueFd (errno set) when fd is not open.
UniqueFd duplicate_fd(int fd);

// A read-only shared mapping of a whole file region.
class ReadOnlyMapping {
public:
    ReadOnlyMapping() = default;
    // Guarded (mapping_guard.hpp): a peer that shrinks the file makes reads past its end zeros,
    // not SIGBUS.
    ReadOnlyMapping(void* address, std::size_t length) : address_(address), length_(length), guard_(address, length) {}
    ReadOnlyMapping(ReadOnlyMapping&& other) noexcept
        : address_(std::exchange(other.address_, nullptr)), length_(std::exchange(other.length_, 0)),
          guard_(std::move(other.guard_)) {}
    ReadOnlyMapping& operator=(ReadOnlyMapping&& other) noexcept;
    ~ReadOnlyMapping();
    ReadOnlyMapping(const ReadOnlyMapping&) = delete;
    ReadOnlyMapping& operator=(const ReadOnlyMapping&) = delete;

    const unsigned char* data() const { return static_cast<const unsigned char*>(address_); }
    std::size_t size() const { return length_; }
    // The file shrank under a read: the mapping reads as zeros from then on.
    bool faulted() const { return guard_.faulted(); }

private:
    void* address_ = nullptr;
    std::size_t length_ = 0;
    GuardedRange guard_; // released before the unmapping
};

} // namespace phyllome::guestview::detail
