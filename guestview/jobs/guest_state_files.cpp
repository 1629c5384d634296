#include "guestview/jobs/guest_state_files.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>

namespace phyllome::guestview {
namespace {

namespace fs = std::filesystem;

// As root, a copy keeps its original's owner; as anyone else it is ours anyway.
bool keep_owner(const fs::path& original, const fs::path& copy, std::string& error) {
    if (::geteuid() != 0)
        return true;
    struct stat st {};
    if (::lstat(original.c_str(), &st) != 0 || ::lchown(copy.c_str(), st.st_uid, st.st_gid) != 0) {
        error = fmt::format("cannot give '{}' the owner of '{}': {}", copy.string(), original.string(),
                            std::strerror(errno));
        return false;
    }
    return true;
}

bool make_directory_like(const fs::path& original, const fs::path& copy, std::string& error) {
    struct stat st {};
    if (::stat(original.c_str(), &st) != 0 || ::mkdir(copy.c_str(), st.st_mode & 07777) != 0 ||
        ::chmod(copy.c_str(), st.st_mode & 07777) != 0) { // mkdir's mode went through the umask
        error = fmt::format("cannot create '{}' like '{}': {}", copy.string(), original.string(), std::strerror(errno));
        return false;
    }
    return keep_owner(original, copy, error);
}

} // namespace

std::uint64_t directory_allocated_bytes(const std::string& directory) {
    std::uint64_t total = 0;
    std::error_code ec;
    for (fs::recursive_directory_iterator it(directory, ec), end; !ec && it != end; it.increment(ec))
        if (it->is_regular_file(ec))
            total += allocated_bytes(it->path().string());
    return total;
}

CopyResult copy_state_directory(const std::string& from, const std::string& to, const CopyProgress& progress) {
    CopyResult result;
    auto fail = [&](std::string error) {
        std::error_code ignored;
        fs::remove_all(to, ignored);
        result.ok = false;
        if (!result.cancelled)
            result.error = std::move(error);
        return result;
    };
    std::error_code ec;
    if (fs::exists(to, ec)) { // someone else's: neither written into nor removed
        result.error = fmt::format("cannot copy '{}' to '{}': it exists already", from, to);
        return result;
    }
    std::string error;
    if (!make_directory_like(from, to, error))
        return fail(error);
    for (fs::recursive_directory_iterator it(from, ec), end; it != end; it.increment(ec)) {
        if (ec)
            break;
        const fs::path target = fs::path(to) / fs::relative(it->path(), from);
        const fs::file_status status = it->symlink_status(ec);
        if (fs::is_directory(status)) {
            if (!make_directory_like(it->path(), target, error))
                return fail(error);
        } else if (fs::is_regular_file(status)) {
            const std::uint64_t before = result.bytes;
            CopyResult file = copy_guest_file(it->path().string(), target.string(), CopyProgress{[&](std::uint64_t copied) {
                return !progress.step || progress.step(before + copied);
            }});
            result.bytes += file.bytes;
            result.reflinked = result.reflinked || file.reflinked;
            if (file.cancelled)
                result.cancelled = true;
            if (!file.ok)
                return fail(file.error);
            if (!keep_owner(it->path(), target, error))
                return fail(error);
        } // sockets, pipes and links are not state
    }
    if (ec)
        return fail(fmt::format("cannot read '{}': {}", from, ec.message()));
    result.ok = true;
    return result;
}

} // namespace phyllome::guestview
