#include "guestview/jobs/guest_archive.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <vector>

#include <fmt/format.h>

#include "config/log.hpp"
#include "guestview/jobs/backup_manifest.hpp"
#include "guestview/jobs/file_copy.hpp"
#include "guestview/jobs/guest_backup.hpp"
#include "guestview/jobs/guest_restore.hpp"
#include "guestview/jobs/partial_files.hpp"
#include "guestview/owned_fd.hpp"

namespace phyllome::guestview {
namespace {

namespace fs = std::filesystem;

struct ArchiveWriteFreer {
    void operator()(archive* a) const { archive_write_free(a); }
};
struct ArchiveReadFreer {
    void operator()(archive* a) const { archive_read_free(a); }
};
struct EntryFreer {
    void operator()(archive_entry* e) const { archive_entry_free(e); }
};

constexpr std::size_t chunk = 4u << 20;

// A hidden folder beside `near` for staging, made with mkdtemp; empty on failure.
std::string staging_folder(const std::string& near_dir, const std::string& label) {
    std::string pattern = fmt::format("{}/.phyllome-{}-XXXXXX", near_dir, label);
    if (::mkdtemp(pattern.data()) == nullptr)
        return {};
    return pattern;
}

std::string parent_of(const std::string& file) {
    const std::string parent = fs::path(file).parent_path().string();
    return parent.empty() ? "." : parent;
}

// Appends `path` as `name` to `out`; progress counts on from `done`.
bool add_file(archive* out, const std::string& path, const std::string& name, JobContext& job, std::uint64_t& done,
              std::uint64_t total, std::string& error, bool& cancelled) {
    OwnedFd in{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
    struct stat st {};
    if (in.get() < 0 || ::fstat(in.get(), &st) != 0) {
        error = fmt::format("cannot read '{}': {}", path, std::strerror(errno));
        return false;
    }
    std::unique_ptr<archive_entry, EntryFreer> entry{archive_entry_new()};
    archive_entry_set_pathname(entry.get(), name.c_str());
    archive_entry_set_size(entry.get(), st.st_size);
    archive_entry_set_filetype(entry.get(), AE_IFREG);
    archive_entry_set_perm(entry.get(), 0600);
    archive_entry_set_mtime(entry.get(), st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
    if (archive_write_header(out, entry.get()) != ARCHIVE_OK) {
        error = fmt::format("cannot write the archive: {}", archive_error_string(out));
        return false;
    }
    std::vector<char> buffer(chunk);
    for (off_t left = st.st_size; left > 0;) {
        const ssize_t got = ::read(in.get(), buffer.data(), buffer.size());
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0) {
            error = fmt::format("cannot read '{}': {}", path, got < 0 ? std::strerror(errno) : "it shrank");
            return false;
        }
        if (archive_write_data(out, buffer.data(), static_cast<std::size_t>(got)) != got) {
            error = fmt::format("cannot write the archive: {}", archive_error_string(out));
            return false;
        }
        left -= got;
        done += static_cast<std::uint64_t>(got);
        job.progress(done, total, "writing the archive");
        if (job.cancelled()) {
            cancelled = true;
            return false;
        }
    }
    return true;
}

// Renames `from` to `to` unless `to` exists; false with errno on failure.
bool rename_no_replace(const std::string& from, const std::string& to) {
    if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0)
        return true;
    if (errno != EINVAL && errno != ENOSYS)
        return false;
    // exFAT and FAT (USB sticks) know neither RENAME_NOREPLACE nor hard links: a check, then a rename.
    if (::access(to.c_str(), F_OK) == 0) {
        errno = EEXIST;
        return false;
    }
    return std::rename(from.c_str(), to.c_str()) == 0;
}

} // namespace

JobOutcome export_guest(virConnectPtr connection, const std::string& guest, const std::string& file,
                        bool include_secrets, JobContext& job) {
    auto failed = [&](std::string message) { return JobOutcome{false, false, std::move(message), {}}; };
    auto cancelled = [&] {
        return JobOutcome{false, true, fmt::format("the export of guest '{}' was cancelled; no file is left", guest), {}};
    };
    std::error_code ec;
    if (fs::exists(file, ec))
        return failed(fmt::format("cannot export guest '{}': '{}' exists already", guest, file));
    const std::string dir = parent_of(file);
    if (!fs::is_directory(dir, ec))
        return failed(fmt::format("cannot export guest '{}': '{}' is not a folder", guest, dir));
    // Staged beside the archive (same filesystem, the user's chosen place); each file goes as
    // soon as it is in the archive, so the peak is the backup plus its largest file.
    const std::string staging = staging_folder(dir, "export");
    if (staging.empty())
        return failed(fmt::format("cannot export guest '{}': cannot make a folder in '{}': {}", guest, dir, std::strerror(errno)));
    PartialFiles partial;
    partial.add(staging);
    const std::string folder = staging + "/backup";
    JobOutcome backup = write_guest_backup(connection, guest, folder, job, {.include_secrets = include_secrets});
    if (!backup.ok) {
        if (backup.cancelled)
            return cancelled();
        return backup;
    }
    std::string error;
    std::ifstream manifest_in(folder + "/" + std::string(manifest_name), std::ios::binary);
    const auto manifest =
        parse_manifest(std::string{std::istreambuf_iterator<char>(manifest_in), std::istreambuf_iterator<char>()}, error);
    if (!manifest)
        return failed(fmt::format("cannot export guest '{}': {}", guest, error));

    const std::string partial_file = file + ".partial";
    std::unique_ptr<archive, ArchiveWriteFreer> out{archive_write_new()};
    archive_write_set_format_pax_restricted(out.get());
    if (archive_write_open_filename(out.get(), partial_file.c_str()) != ARCHIVE_OK)
        return failed(fmt::format("cannot export guest '{}': cannot write '{}': {}", guest, partial_file,
                                  archive_error_string(out.get())));
    partial.add(partial_file);
    const std::uint64_t total = manifest_bytes(*manifest);
    std::uint64_t done = 0;
    bool was_cancelled = false;
    // The manifest first: an importer learns what to expect before the data.
    std::vector<std::string> names{std::string(manifest_name)};
    for (const BackupFile& entry : manifest->files)
        names.push_back(entry.name);
    for (const std::string& name : names) {
        const std::string path = folder + "/" + name;
        if (!add_file(out.get(), path, name, job, done, total, error, was_cancelled)) {
            if (was_cancelled)
                return cancelled();
            return failed(fmt::format("cannot export guest '{}': {}", guest, error));
        }
        fs::remove(path, ec);
    }
    if (archive_write_close(out.get()) != ARCHIVE_OK)
        return failed(fmt::format("cannot export guest '{}': cannot finish '{}': {}", guest, partial_file,
                                  archive_error_string(out.get())));
    out.reset();
    if (OwnedFd sync{::open(partial_file.c_str(), O_RDONLY | O_CLOEXEC)}; sync.get() < 0 || ::fsync(sync.get()) != 0)
        return failed(fmt::format("cannot export guest '{}': cannot write '{}': {}", guest, partial_file, std::strerror(errno)));
    if (job.cancelled())
        return cancelled();
    // No clobbering: a file that appeared meanwhile stays and the export fails.
    if (!rename_no_replace(partial_file, file))
        return failed(fmt::format("cannot export guest '{}': cannot create '{}': {}", guest, file, std::strerror(errno)));
    partial.discard(); // the staging folder; the archive has its name
    log::info("guest '{}': exported to '{}' ({} bytes of files{})", guest, file, total,
              include_secrets ? ", with its disks' secrets" : "");
    return {true, false, file, {}};
}

UnpackResult unpack_guest_archive(const std::string& file, const std::string& folder, JobContext& job) {
    UnpackResult result;
    std::unique_ptr<archive, ArchiveReadFreer> in{archive_read_new()};
    archive_read_support_format_tar(in.get());
    if (archive_read_open_filename(in.get(), file.c_str(), chunk) != ARCHIVE_OK) {
        result.error = fmt::format("cannot read '{}': {}", file, archive_error_string(in.get()));
        return result;
    }
    std::error_code ec;
    const std::uint64_t total = fs::file_size(file, ec);
    std::uint64_t done = 0;
    std::vector<char> buffer(chunk);
    archive_entry* entry = nullptr;
    for (;;) {
        const int status = archive_read_next_header(in.get(), &entry);
        if (status == ARCHIVE_EOF)
            break;
        if (status != ARCHIVE_OK) {
            result.error = fmt::format("'{}' is not a readable guest archive: {}", file, archive_error_string(in.get()));
            return result;
        }
        const char* raw_name = archive_entry_pathname(entry);
        const std::string name = raw_name != nullptr ? raw_name : "";
        if (archive_entry_filetype(entry) != AE_IFREG || (name != manifest_name && !safe_backup_name(name))) {
            result.error = fmt::format("'{}' holds '{}', which no guest archive holds", file, name);
            return result;
        }
        const std::string path = folder + "/" + name;
        fs::create_directories(fs::path(path).parent_path(), ec);
        OwnedFd out{::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)};
        if (out.get() < 0) {
            result.error = fmt::format("cannot create '{}': {}", path, std::strerror(errno));
            return result;
        }
        for (;;) {
            const la_ssize_t got = archive_read_data(in.get(), buffer.data(), buffer.size());
            if (got == 0)
                break;
            if (got < 0) {
                result.error = fmt::format("'{}' is damaged at '{}': {}", file, name, archive_error_string(in.get()));
                return result;
            }
            for (la_ssize_t written = 0; written < got;) {
                const ssize_t n = ::write(out.get(), buffer.data() + written, static_cast<std::size_t>(got - written));
                if (n < 0 && errno == EINTR)
                    continue;
                if (n < 0) {
                    result.error = fmt::format("cannot write '{}': {}", path, std::strerror(errno));
                    return result;
                }
                written += n;
            }
            done += static_cast<std::uint64_t>(got);
            job.progress(std::min(done, total), total, "unpacking the archive");
            if (job.cancelled()) {
                result.cancelled = true;
                return result;
            }
        }
    }
    result.ok = true;
    return result;
}

JobOutcome import_guest(virConnectPtr connection, const std::string& file, const std::string& disk_dir, JobContext& job) {
    auto failed = [&](std::string message) { return JobOutcome{false, false, std::move(message), {}}; };
    std::error_code ec;
    if (!fs::is_regular_file(file, ec))
        return failed(fmt::format("cannot import '{}': no such file", file));
    if (!fs::is_directory(disk_dir, ec))
        return failed(fmt::format("cannot import '{}': the disk folder '{}' does not exist", file, disk_dir));
    // Unpacked where the disks go, so putting them in place is a rename.
    if (const std::string problem = free_space_problem(disk_dir, fs::file_size(file, ec)); !problem.empty())
        return failed(fmt::format("cannot import '{}': {}", file, problem));
    const std::string staging = staging_folder(disk_dir, "import");
    if (staging.empty())
        return failed(fmt::format("cannot import '{}': cannot make a folder in '{}': {}", file, disk_dir, std::strerror(errno)));
    PartialFiles partial;
    partial.add(staging); // always goes: what the guest needs was moved out of it
    const UnpackResult unpacked = unpack_guest_archive(file, staging, job);
    if (unpacked.cancelled)
        return {false, true, fmt::format("the import of '{}' was cancelled; nothing of it is left", file), {}};
    if (!unpacked.ok)
        return failed(fmt::format("cannot import '{}': {}", file, unpacked.error));
    return restore_from_folder(connection, staging, {}, disk_dir, job, {.move_files = true, .what = "import", .foreign = true});
}

} // namespace phyllome::guestview
