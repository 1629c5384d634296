#include "guestview/display/bus_handles.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

namespace phyllome::guestview::detail {

void UniqueFd::reset(int fd) {
    if (fd_ >= 0)
        ::close(fd_);
    fd_ = fd;
}

UniqueFd duplicate_fd(int fd) {
    if (fd < 0)
        return UniqueFd();
    return UniqueFd(::fcntl(fd, F_DUPFD_CLOEXEC, 3));
}

ReadOnlyMapping& ReadOnlyMapping::operator=(ReadOnlyMapping&& other) noexcept {
    if (this != &other) {
        guard_ = GuardedRange();
        if (address_)
            ::munmap(address_, length_);
        address_ = std::exchange(other.address_, nullptr);
        length_ = std::exchange(other.length_, 0);
        guard_ = std::move(other.guard_);
    }
    return *this;
}

ReadOnlyMapping::~ReadOnlyMapping() {
    guard_ = GuardedRange(); // unguarded before the address can be reused
    if (address_)
        ::munmap(address_, length_);
}

} // namespace phyllome::guestview::detail
