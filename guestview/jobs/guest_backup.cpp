#include "guestview/jobs/guest_backup.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <vector>

#include <fmt/format.h>

#include "config/log.hpp"
#include "guestview/jobs/backup_manifest.hpp"
#include "guestview/disk_secret.hpp"
#include "guestview/jobs/file_copy.hpp"
#include "guestview/jobs/guest_files.hpp"
#include "guestview/jobs/partial_files.hpp"
#include "guestview/jobs/push_backup.hpp"
#include "guestview/libvirt_handles.hpp"
#include "guestview/owned_fd.hpp"

namespace phyllome::guestview {
namespace {

namespace fs = std::filesystem;

std::string timestamp() {
    const std::time_t now = std::time(nullptr);
    std::tm local{};
    localtime_r(&now, &local);
    char text[32] = {};
    std::strftime(text, sizeof text, "%Y%m%d-%H%M%S", &local);
    return text;
}

// Writes `data` to a new file (0600) and fsyncs it; empty or the error.
std::string write_new_file(const std::string& path, std::string_view data) {
    OwnedFd fd{::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)};
    if (fd.get() < 0)
        return fmt::format("cannot create '{}': {}", path, std::strerror(errno));
    for (std::size_t written = 0; written < data.size();) {
        const ssize_t n = ::write(fd.get(), data.data() + written, data.size() - written);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return fmt::format("cannot write '{}': {}", path, std::strerror(errno));
        written += static_cast<std::size_t>(n);
    }
    if (::fsync(fd.get()) != 0)
        return fmt::format("cannot write '{}': {}", path, std::strerror(errno));
    return {};
}

struct Planned {
    BackupFile entry;   // name, kind, disk details; checksum and size filled in at the end
    std::string source; // empty: written by the backup job or from memory
};

JobOutcome failed(std::string message) { return {false, false, std::move(message), {}}; }
JobOutcome cancelled_outcome(const std::string& guest) {
    return {false, true, fmt::format("the backup of guest '{}' was cancelled; nothing of it is left", guest), {}};
}

} // namespace

JobOutcome write_guest_backup(virConnectPtr connection, const std::string& guest, const std::string& folder,
                              JobContext& job, const BackupWriteOptions& options) {
    DomainPtr domain{virDomainLookupByName(connection, guest.c_str())};
    if (!domain)
        return failed(fmt::format("cannot find guest '{}': {}", guest, last_libvirt_error()));
    const int active = virDomainIsActive(domain.get());
    if (active < 0)
        return failed(fmt::format("cannot tell whether guest '{}' runs: {}", guest, last_libvirt_error()));
    LibvirtString xml{virDomainGetXMLDesc(domain.get(), VIR_DOMAIN_XML_INACTIVE)};
    if (!xml)
        return failed(fmt::format("cannot read guest '{}': {}", guest, last_libvirt_error()));
    std::string error;
    const auto files = guest_files(xml.get(), error);
    if (!files)
        return failed(fmt::format("cannot back up guest '{}': {}", guest, error));

    // Plan every file and check what can be checked before the folder exists.
    std::vector<Planned> plan;
    std::uint64_t needed = std::string_view(xml.get()).size();
    for (const GuestDisk& disk : files->disks) {
        std::error_code ec;
        if (!fs::is_regular_file(disk.path, ec))
            return failed(fmt::format("cannot back up guest '{}': its disk {} ('{}') is missing", guest, disk.dev, disk.path));
        // A copy of an overlay alone is not the disk; the backup job of a running guest flattens it.
        if (!active && disk.format == "qcow2")
            if (const std::string backing = qcow2_backing_file(disk.path); !backing.empty())
                return failed(fmt::format("cannot back up guest '{}' while it is shut off: its disk {} is an overlay on "
                                          "'{}'; start it and back it up running (the copy is then whole)",
                                          guest, disk.dev, backing));
        // A running guest's disks come out of the backup job as qcow2 whatever they were.
        const std::string format = active ? "qcow2" : disk.format;
        plan.push_back({{BackupFileKind::Disk, {}, 0, fmt::format("disk-{}.{}", disk.dev, format), disk.dev, format,
                         disk.secret_uuid},
                        active ? std::string() : disk.path});
        needed += allocated_bytes(disk.path);
    }
    if (!files->nvram.empty()) {
        std::error_code ec;
        if (fs::is_regular_file(files->nvram, ec)) {
            plan.push_back({{BackupFileKind::Nvram, {}, 0, "nvram" + fs::path(files->nvram).extension().string(), {}, {}, {}},
                            files->nvram});
            needed += allocated_bytes(files->nvram);
        } else {
            log::info("guest '{}': no NVRAM file yet at '{}' (never started): the backup has none", guest, files->nvram);
        }
    }
    if (files->tpm_emulator) {
        const auto dirs = state_dirs(connection);
        const std::string tpm_dir = dirs ? tpm_state_dir(*dirs, files->uuid, files->tpm_source_dir) : files->tpm_source_dir;
        std::error_code ec;
        if (tpm_dir.empty())
            return failed(fmt::format("cannot back up guest '{}': this libvirt connection does not say where its TPM state is",
                                      guest));
        if (fs::is_directory(tpm_dir, ec)) {
            for (const auto& item : fs::recursive_directory_iterator(tpm_dir, ec)) {
                if (!item.is_regular_file())
                    continue;
                const std::string relative = fs::relative(item.path(), tpm_dir).string();
                if (!safe_backup_name("tpm/" + relative))
                    return failed(fmt::format("cannot back up guest '{}': an odd file name in its TPM state, '{}'", guest,
                                              item.path().string()));
                plan.push_back({{BackupFileKind::Tpm, {}, 0, "tpm/" + relative, {}, {}, {}}, item.path().string()});
                needed += allocated_bytes(item.path().string());
            }
            if (ec)
                return failed(fmt::format("cannot read the TPM state of guest '{}' in '{}': {}", guest, tpm_dir, ec.message()));
        } else {
            log::info("guest '{}': no TPM state yet in '{}' (never started): the backup has none", guest, tpm_dir);
        }
    }
    std::vector<std::pair<std::string, std::string>> secret_values; // uuid, value
    if (options.include_secrets) {
        for (const GuestDisk& disk : files->disks) {
            if (disk.secret_uuid.empty())
                continue;
            SecretValue value = read_secret_value(connection, disk.secret_uuid);
            if (!value.error.empty())
                return failed(fmt::format("cannot export guest '{}' with its secrets: {}", guest, value.error));
            plan.push_back({{BackupFileKind::Secret, {}, 0, fmt::format("secret-{}.bin", disk.secret_uuid), {}, {},
                             disk.secret_uuid},
                            {}});
            secret_values.emplace_back(disk.secret_uuid, std::move(value.value));
        }
    }
    const std::string parent = fs::path(folder).parent_path().string();
    if (const std::string problem = free_space_problem(parent.empty() ? "." : parent, needed); !problem.empty())
        return failed(fmt::format("cannot back up guest '{}': {}", guest, problem));
    if (job.cancelled())
        return cancelled_outcome(guest);

    // The folder is traversable but not listable: under a system libvirt QEMU (another user)
    // writes the running guest's disks into it; what we write ourselves is 0600.
    if (::mkdir(folder.c_str(), 0711) != 0)
        return failed(fmt::format("cannot create the backup folder '{}': {}", folder, std::strerror(errno)));
    PartialFiles partial;
    partial.add(folder);

    BackupManifest manifest;
    manifest.guest = guest;
    manifest.created = timestamp();
    if (std::string e = write_new_file(folder + "/domain.xml", xml.get()); !e.empty())
        return failed(e);
    Planned domain_file;
    domain_file.entry.kind = BackupFileKind::Domain;
    domain_file.entry.name = "domain.xml";
    plan.insert(plan.begin(), std::move(domain_file));

    // Copying and then hashing: each byte is counted twice in `total`.
    const std::uint64_t total = 2 * needed;
    std::uint64_t done = 0;
    if (active) {
        std::vector<PushTarget> targets;
        for (const Planned& item : plan)
            if (item.entry.kind == BackupFileKind::Disk)
                for (const GuestDisk& disk : files->disks)
                    if (disk.dev == item.entry.dev)
                        targets.push_back({disk, folder + "/" + item.entry.name});
        if (!targets.empty()) {
            PushResult pushed = run_push_backup(domain.get(), targets, files->other_devs, job, done, total);
            if (pushed.cancelled)
                return cancelled_outcome(guest);
            if (!pushed.ok)
                return failed(pushed.error);
            for (const PushTarget& target : targets)
                done += allocated_bytes(target.file);
        }
    }
    for (const Planned& item : plan) {
        const std::string to = folder + "/" + item.entry.name;
        if (item.entry.kind == BackupFileKind::Secret) {
            for (const auto& [uuid, value] : secret_values)
                if (uuid == item.entry.secret_uuid)
                    if (std::string e = write_new_file(to, value); !e.empty())
                        return failed(e);
            continue;
        }
        if (item.source.empty())
            continue;
        fs::create_directories(fs::path(to).parent_path());
        const std::uint64_t before = done;
        const CopyResult copied = copy_guest_file(item.source, to, {[&](std::uint64_t bytes) {
            job.progress(before + bytes, total, "copying the guest's files");
            return !job.cancelled();
        }});
        if (copied.cancelled)
            return cancelled_outcome(guest);
        if (!copied.ok)
            return failed(fmt::format("cannot back up guest '{}': {}", guest, copied.error));
        ::chmod(to.c_str(), 0600);
        done += copied.bytes;
    }

    for (Planned& item : plan) {
        const std::uint64_t before = done;
        FileDigest digest = sha256_file(folder + "/" + item.entry.name, [&](std::uint64_t read) {
            job.progress(std::min(total, before + read), total, "computing checksums");
            return !job.cancelled();
        });
        if (digest.cancelled)
            return cancelled_outcome(guest);
        if (!digest.ok)
            return failed(fmt::format("cannot back up guest '{}': {}", guest, digest.error));
        item.entry.sha256 = digest.sha256;
        item.entry.size = digest.size;
        done += digest.size;
        manifest.files.push_back(item.entry);
    }
    if (std::string e = write_new_file(folder + "/" + std::string(manifest_name), format_manifest(manifest)); !e.empty())
        return failed(e);
    if (job.cancelled())
        return cancelled_outcome(guest);
    partial.keep();
    log::info("guest '{}': backed up into '{}' ({} files, {} bytes, {})", guest, folder, manifest.files.size(),
              manifest_bytes(manifest), active ? "running: backup job" : "shut off: copied");
    return {true, false, {}, {}};
}

JobOutcome backup_guest(virConnectPtr connection, const std::string& guest, const std::string& directory,
                        JobContext& job) {
    std::error_code ec;
    // The overlay's default (~/Backups) may not exist yet; what the user named is made too.
    if (!fs::exists(directory, ec) && fs::create_directories(directory, ec) && !ec)
        fs::permissions(directory, fs::perms::owner_all, ec);
    if (!fs::is_directory(directory, ec))
        return failed(fmt::format("cannot back up guest '{}': '{}' is not a folder{}", guest, directory,
                                  ec ? " (" + ec.message() + ")" : ""));
    // Two backups in the same second get a suffix instead of failing.
    std::string folder = fmt::format("{}/{}-{}", directory, guest, timestamp());
    for (int n = 2; fs::exists(folder, ec) && n < 100; ++n)
        folder = fmt::format("{}/{}-{}-{}", directory, guest, timestamp(), n);
    JobOutcome outcome = write_guest_backup(connection, guest, folder, job);
    if (outcome.ok)
        outcome.message = folder;
    return outcome;
}

} // namespace phyllome::guestview
