#include "guestview/jobs/file_copy.hpp"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include <fmt/format.h>

#include "guestview/owned_fd.hpp"

namespace phyllome::guestview {
namespace {

constexpr std::size_t chunk_size = 8u << 20;

std::string gib(std::uint64_t bytes) { return fmt::format("{:.1f} GiB", static_cast<double>(bytes) / (1u << 30)); }

// Copies [offset, end) of `in` to the same place in `out`.
bool copy_range(int in, int out, off_t offset, off_t end, std::vector<char>& buffer, std::uint64_t& copied,
                const CopyProgress& progress, CopyResult& result) {
    while (offset < end) {
        const std::size_t want = static_cast<std::size_t>(std::min<off_t>(end - offset, static_cast<off_t>(buffer.size())));
        const ssize_t got = ::pread(in, buffer.data(), want, offset);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0) {
            result.error = got < 0 ? std::strerror(errno) : "the file shrank while it was copied";
            return false;
        }
        for (ssize_t written = 0; written < got;) {
            const ssize_t n = ::pwrite(out, buffer.data() + written, static_cast<std::size_t>(got - written), offset + written);
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0) {
                result.error = std::strerror(errno);
                return false;
            }
            written += n;
        }
        offset += got;
        copied += static_cast<std::uint64_t>(got);
        if (progress.step && !progress.step(copied)) {
            result.cancelled = true;
            return false;
        }
    }
    return true;
}

} // namespace

CopyResult copy_guest_file(const std::string& from, const std::string& to, const CopyProgress& progress) {
    CopyResult result;
    OwnedFd in{::open(from.c_str(), O_RDONLY | O_CLOEXEC)};
    struct stat st {};
    if (in.get() < 0 || ::fstat(in.get(), &st) != 0) {
        result.error = fmt::format("cannot read '{}': {}", from, std::strerror(errno));
        return result;
    }
    OwnedFd out{::open(to.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, st.st_mode & 07777)};
    if (out.get() < 0) {
        result.error = fmt::format("cannot create '{}': {}", to, std::strerror(errno));
        return result;
    }
    auto fail = [&](std::string cause) {
        out.reset();
        ::unlink(to.c_str());
        if (!result.cancelled)
            result.error = fmt::format("cannot copy '{}' to '{}': {}", from, to, cause);
        result.ok = false;
        return result;
    };
    // A reflink shares the blocks (btrfs, XFS): the copy is instant and takes no space yet.
    if (::ioctl(out.get(), FICLONE, in.get()) == 0) {
        result.reflinked = true;
        result.bytes = static_cast<std::uint64_t>(st.st_blocks) * 512;
        if (progress.step && !progress.step(result.bytes)) {
            result.cancelled = true;
            return fail({});
        }
    } else {
        if (::ftruncate(out.get(), st.st_size) != 0)
            return fail(std::strerror(errno));
        std::vector<char> buffer(chunk_size);
        // Only the data: holes stay holes, so a sparse 20 GB disk with 2 GB written copies 2 GB.
        off_t offset = 0;
        while (offset < st.st_size) {
            off_t data = ::lseek(in.get(), offset, SEEK_DATA);
            if (data < 0) {
                if (errno == ENXIO)
                    break; // a hole to the end
                data = offset; // no SEEK_DATA here: copy everything
            }
            off_t hole = ::lseek(in.get(), data, SEEK_HOLE);
            if (hole < 0)
                hole = st.st_size;
            if (!copy_range(in.get(), out.get(), data, hole, buffer, result.bytes, progress, result))
                return fail(result.error);
            offset = hole;
        }
    }
    if (::fsync(out.get()) != 0)
        return fail(std::strerror(errno));
    result.ok = true;
    return result;
}

std::uint64_t allocated_bytes(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0)
        return 0;
    return static_cast<std::uint64_t>(st.st_blocks) * 512;
}

std::string free_space_problem(const std::string& directory, std::uint64_t needed) {
    struct statvfs fs {};
    if (::statvfs(directory.c_str(), &fs) != 0)
        return fmt::format("cannot tell the free space in '{}': {}", directory, std::strerror(errno));
    const std::uint64_t free = static_cast<std::uint64_t>(fs.f_bavail) * fs.f_frsize;
    const std::uint64_t size = static_cast<std::uint64_t>(fs.f_blocks) * fs.f_frsize;
    const std::uint64_t margin = std::max<std::uint64_t>(size / 100, 256u << 20);
    if (free >= needed + margin)
        return {};
    return fmt::format("not enough disk space in '{}': {} needed (and {} kept free), {} free; free some space "
                       "or choose another place",
                       directory, gib(needed), gib(margin), gib(free));
}

} // namespace phyllome::guestview
