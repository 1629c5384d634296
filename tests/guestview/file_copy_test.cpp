// The one file copy of the long jobs (guestview/jobs/file_copy.hpp) and the state-directory copy
// built on it, on the real filesystem: holes stay holes, an existing target is never
// overwritten, a cancel leaves nothing, and the free-space check.
#include "guestview/jobs/file_copy.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "guestview/jobs/guest_state_files.hpp"
#include "tests/guestview/test_support.hpp"

namespace phyllome::guestview {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

constexpr std::uint64_t mib = 1u << 20;

// One read: a character-by-character read of 256 MiB takes minutes under ASan at -O0.
std::string contents(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::string data(fs::file_size(path), '\0');
    in.read(data.data(), static_cast<std::streamsize>(data.size()));
    data.resize(static_cast<std::size_t>(in.gcount()));
    return data;
}

// A `size` file that is a hole but for `data` bytes of a pattern at each of `offsets`.
void write_sparse(const fs::path& path, std::uint64_t size, const std::vector<std::uint64_t>& offsets,
                  std::uint64_t data) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0640);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::ftruncate(fd, static_cast<off_t>(size)), 0);
    std::string pattern(data, '\0');
    for (std::size_t i = 0; i < pattern.size(); ++i)
        pattern[i] = static_cast<char>('a' + i % 26);
    for (std::uint64_t offset : offsets)
        ASSERT_EQ(::pwrite(fd, pattern.data(), pattern.size(), static_cast<off_t>(offset)),
                  static_cast<ssize_t>(pattern.size()));
    ::close(fd);
}

class FileCopyTest : public ::testing::Test {
protected:
    testing::TempDir dir;
};

TEST_F(FileCopyTest, ASparseFileStaysSparseAndKeepsItsModeAndData) {
    const fs::path from = dir.path() / "disk.qcow2", to = dir.path() / "copy.qcow2";
    write_sparse(from, 256 * mib, {0, 100 * mib, 200 * mib}, mib);
    std::vector<std::uint64_t> steps;
    const CopyResult result = copy_guest_file(from, to, CopyProgress{[&](std::uint64_t copied) {
        steps.push_back(copied);
        return true;
    }});
    ASSERT_TRUE(result.ok) << result.error;
    EXPECT_EQ(contents(to), contents(from));
    EXPECT_EQ(fs::file_size(to), 256 * mib);
    // Only the data: 3 MiB of a 256 MiB file (a filesystem may round up its extents).
    EXPECT_LT(allocated_bytes(to), 16 * mib) << "the holes were written out";
    if (!result.reflinked) {
        EXPECT_EQ(result.bytes, 3 * mib);
        ASSERT_FALSE(steps.empty());
        EXPECT_EQ(steps.back(), 3 * mib);
    }
    struct stat st {};
    ASSERT_EQ(::stat(to.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0640u);
}

TEST_F(FileCopyTest, ProgressComesAtLeastEvery8MiB) {
    const fs::path from = dir.path() / "full.raw", to = dir.path() / "copy.raw";
    write_sparse(from, 40 * mib, {0}, 40 * mib);
    std::vector<std::uint64_t> steps;
    const CopyResult result = copy_guest_file(from, to, CopyProgress{[&](std::uint64_t copied) {
        steps.push_back(copied);
        return true;
    }});
    ASSERT_TRUE(result.ok) << result.error;
    if (result.reflinked)
        GTEST_SKIP() << "the filesystem reflinks: no chunks to count";
    ASSERT_GE(steps.size(), 5u);
    std::uint64_t last = 0;
    for (std::uint64_t copied : steps) {
        EXPECT_LE(copied - last, 8 * mib);
        last = copied;
    }
    EXPECT_EQ(last, 40 * mib);
}

TEST_F(FileCopyTest, AnExistingTargetIsNeverOverwritten) {
    const fs::path from = dir.path() / "disk.qcow2", to = dir.path() / "precious.qcow2";
    write_sparse(from, mib, {0}, 4096);
    std::ofstream(to) << "keep me";
    const CopyResult result = copy_guest_file(from, to);
    EXPECT_FALSE(result.ok);
    EXPECT_FALSE(result.cancelled);
    EXPECT_THAT(result.error, HasSubstr(to.string()));
    EXPECT_EQ(contents(to), "keep me");
}

TEST_F(FileCopyTest, ACancelRemovesThePartialCopy) {
    const fs::path from = dir.path() / "disk.qcow2", to = dir.path() / "copy.qcow2";
    write_sparse(from, 64 * mib, {0}, 32 * mib);
    int calls = 0;
    const CopyResult result = copy_guest_file(from, to, CopyProgress{[&](std::uint64_t) { return ++calls < 2; }});
    EXPECT_FALSE(result.ok);
    EXPECT_TRUE(result.cancelled);
    EXPECT_TRUE(result.error.empty()) << result.error;
    EXPECT_FALSE(fs::exists(to)) << "the partial copy is left";
    EXPECT_TRUE(fs::exists(from));
}

TEST_F(FileCopyTest, AMissingSourceNamesIt) {
    const CopyResult result = copy_guest_file(dir.path() / "none.qcow2", dir.path() / "copy.qcow2");
    EXPECT_FALSE(result.ok);
    EXPECT_THAT(result.error, HasSubstr("none.qcow2"));
    EXPECT_FALSE(fs::exists(dir.path() / "copy.qcow2"));
}

TEST_F(FileCopyTest, FreeSpaceProblemSaysWhatIsNeededAndWhere) {
    EXPECT_EQ(free_space_problem(dir.path(), 0), "") << "a 0-byte copy fits unless the disk is nearly full";
    const std::string problem = free_space_problem(dir.path(), std::uint64_t{1} << 60);
    EXPECT_THAT(problem, HasSubstr("not enough disk space"));
    EXPECT_THAT(problem, HasSubstr(dir.path().string()));
    EXPECT_THAT(problem, HasSubstr("GiB needed"));
    EXPECT_THAT(free_space_problem((dir.path() / "nowhere").string(), 1), HasSubstr("cannot tell the free space"));
}

TEST_F(FileCopyTest, AllocatedBytesCountsBlocksNotTheApparentSize) {
    const fs::path file = dir.path() / "sparse";
    write_sparse(file, 512 * mib, {0}, mib);
    EXPECT_GE(allocated_bytes(file), mib);
    EXPECT_LT(allocated_bytes(file), 16 * mib);
    EXPECT_EQ(allocated_bytes(dir.path() / "none"), 0u);
}

TEST_F(FileCopyTest, AStateDirectoryIsCopiedWithItsModes) {
    const fs::path from = dir.path() / "swtpm/uuid-a", to = dir.path() / "swtpm/uuid-b";
    fs::create_directories(from / "tpm2");
    fs::permissions(from / "tpm2", fs::perms::owner_all);
    write_sparse(from / "tpm2/tpm2-00.permall", 6104, {0}, 6104);
    std::ofstream(from / "tpm2/.lock");
    std::uint64_t reported = 0;
    const CopyResult result = copy_state_directory(from, to, CopyProgress{[&](std::uint64_t copied) {
        reported = copied;
        return true;
    }});
    ASSERT_TRUE(result.ok) << result.error;
    EXPECT_EQ(contents(to / "tpm2/tpm2-00.permall"), contents(from / "tpm2/tpm2-00.permall"));
    EXPECT_TRUE(fs::exists(to / "tpm2/.lock"));
    EXPECT_EQ(fs::status(to / "tpm2").permissions(), fs::perms::owner_all);
    EXPECT_GT(reported, 0u);
    EXPECT_GT(directory_allocated_bytes(to), 0u);

    // Never into an existing directory, and a cancel leaves nothing.
    EXPECT_FALSE(copy_state_directory(from, to).ok);
    EXPECT_TRUE(fs::exists(to / "tpm2/tpm2-00.permall")) << "the existing one stays";
    const fs::path cancelled = dir.path() / "swtpm/uuid-c";
    const CopyResult stopped = copy_state_directory(from, cancelled, CopyProgress{[](std::uint64_t) { return false; }});
    EXPECT_TRUE(stopped.cancelled);
    EXPECT_FALSE(fs::exists(cancelled));
}

} // namespace
} // namespace phyllome::guestview
