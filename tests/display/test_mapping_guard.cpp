// A shared mapping whose file shrinks under it reads as zeros instead of raising SIGBUS, and
// only while guarded; faults outside guarded ranges keep their default action.
#include <gtest/gtest.h>

#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>

#include "guestview/display/bus_handles.hpp"

namespace phyllome::guestview {
namespace {

constexpr std::size_t page = 4096, pages = 4;

int memfd_of(std::size_t bytes, unsigned char fill) {
    const int fd = memfd_create("guard-test", MFD_CLOEXEC);
    EXPECT_GE(fd, 0);
    EXPECT_EQ(ftruncate(fd, static_cast<off_t>(bytes)), 0);
    std::vector<unsigned char> data(bytes, fill);
    EXPECT_EQ(pwrite(fd, data.data(), bytes, 0), static_cast<ssize_t>(bytes));
    return fd;
}

const unsigned char* map(int fd) {
    void* p = mmap(nullptr, page * pages, PROT_READ, MAP_SHARED, fd, 0);
    EXPECT_NE(p, MAP_FAILED);
    return static_cast<const unsigned char*>(p);
}

TEST(MappingGuard, AFileThatShrinksReadsAsZerosInsteadOfKillingTheProcess) {
    const int fd = memfd_of(page * pages, 0x5a);
    detail::ReadOnlyMapping mapping(const_cast<unsigned char*>(map(fd)), page * pages);
    const volatile unsigned char* bytes = mapping.data();
    EXPECT_EQ(bytes[3 * page], 0x5a);
    EXPECT_FALSE(mapping.faulted());
    ASSERT_EQ(ftruncate(fd, static_cast<off_t>(page)), 0); // the peer shrinks it
    EXPECT_EQ(bytes[3 * page + 7], 0) << "past the new end: zeros";
    EXPECT_TRUE(mapping.faulted());
    EXPECT_EQ(bytes[0], 0) << "the whole range was replaced";
    close(fd);
}

TEST(MappingGuard, FaultsOutsideGuardedRangesStillEndTheProcess) {
    { // the handler is installed by a first guard
        const int fd = memfd_of(page, 1);
        detail::ReadOnlyMapping guarded(const_cast<unsigned char*>(map(fd)), page * pages);
        close(fd);
    }
    const pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        const int fd = memfd_of(page * pages, 1);
        const volatile unsigned char* raw = map(fd); // not guarded
        (void)ftruncate(fd, 0);
        _exit(raw[2 * page] == 0 ? 3 : 4); // must not get here
    }
    int status = 0;
    ASSERT_EQ(waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFSIGNALED(status)) << "the child exited with " << WEXITSTATUS(status);
    EXPECT_EQ(WTERMSIG(status), SIGBUS);
}

TEST(MappingGuard, AReleasedGuardNoLongerCoversItsAddresses) {
    const int fd = memfd_of(page * pages, 2);
    void* p = mmap(nullptr, page * pages, PROT_READ, MAP_SHARED, fd, 0);
    ASSERT_NE(p, MAP_FAILED);
    {
        GuardedRange guard(p, page * pages);
        EXPECT_TRUE(guard.guarded());
    }
    const pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        (void)ftruncate(fd, 0);
        _exit(static_cast<const volatile unsigned char*>(p)[page] == 0 ? 3 : 4);
    }
    int status = 0;
    ASSERT_EQ(waitpid(child, &status, 0), child);
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGBUS);
    munmap(p, page * pages);
    close(fd);
}

} // namespace
} // namespace phyllome::guestview
