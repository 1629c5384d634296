// File descriptors in display tests: a memfd standing in for a dmabuf, and how many fds this
// process has open (no test may leak one).
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <filesystem>

#include <gtest/gtest.h>

#include "guestview/display/bus_handles.hpp"

namespace phyllome::guestview::testing {

inline detail::UniqueFd memfd_of(std::size_t bytes) {
    detail::UniqueFd fd(::memfd_create("dmabuf2", MFD_CLOEXEC));
    EXPECT_TRUE(fd);
    EXPECT_EQ(::ftruncate(fd.get(), static_cast<off_t>(bytes)), 0);
    return fd;
}

inline std::size_t open_fds() {
    std::size_t n = 0;
    for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/fd"))
        ++n;
    return n;
}

} // namespace phyllome::guestview::testing
