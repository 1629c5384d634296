#include "guestview/jobs/guest_restore.hpp"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

#include <fmt/format.h>
#include <glib.h>

#include "config/log.hpp"
#include "guestview/disk_secret.hpp"
#include "guestview/domain_model.hpp"
#include "guestview/jobs/backup_manifest.hpp"
#include "guestview/jobs/file_copy.hpp"
#include "guestview/jobs/guest_files.hpp"
#include "guestview/jobs/import_policy.hpp"
#include "guestview/jobs/partial_files.hpp"
#include "guestview/jobs/restore_xml.hpp"
#include "guestview/libvirt_handles.hpp"

namespace phyllome::guestview {
namespace {

namespace fs = std::filesystem;

// A small file of the backup (the manifest, the domain XML), or nullopt when it is missing or
// too large to be one.
std::optional<std::string> read_small(const std::string& path, std::uintmax_t limit) {
    std::error_code ec;
    const auto size = fs::file_size(path, ec);
    if (ec || size > limit)
        return std::nullopt;
    std::ifstream in(path, std::ios::binary);
    if (!in)
        return std::nullopt;
    return std::string{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string random_uuid() {
    std::unique_ptr<gchar, decltype(&g_free)> uuid{g_uuid_string_random(), &g_free};
    return uuid.get();
}

bool uuid_in_use(virConnectPtr connection, const std::string& uuid) {
    DomainPtr other{virDomainLookupByUUIDString(connection, uuid.c_str())};
    if (!other)
        virResetLastError();
    return other != nullptr;
}

struct Transfer {
    const BackupFile* file;
    std::string to;
};

} // namespace

JobOutcome restore_from_folder(virConnectPtr connection, const std::string& backup_dir, const std::string& new_name,
                               const std::string& disk_dir, JobContext& job, const RestoreOptions& options) {
    const std::string& what = options.what;
    const std::string what_done = what + (what.ends_with('e') ? "d" : "ed"); // restored, imported
    auto failed = [&](std::string message) { return JobOutcome{false, false, std::move(message), {}}; };
    auto cancelled = [&] { return JobOutcome{false, true, fmt::format("the {} was cancelled; nothing of it is left", what), {}}; };

    // 1. The backup: its manifest, every file's size and checksum. Nothing is made before this.
    const auto manifest_text = read_small(backup_dir + "/" + std::string(manifest_name), 1u << 20);
    if (!manifest_text)
        return failed(fmt::format("cannot {}: '{}' is not a guest backup (no manifest)", what, backup_dir));
    std::string error;
    const auto manifest = parse_manifest(*manifest_text, error);
    if (!manifest)
        return failed(fmt::format("cannot {}: the backup in '{}' is damaged: {}", what, backup_dir, error));
    const std::string name = new_name.empty() ? manifest->guest : new_name;
    if (const std::string problem = guest_name_problem(name); !problem.empty())
        return failed(fmt::format("cannot {} as '{}': {}", what, name, problem));
    if (DomainPtr existing{virDomainLookupByName(connection, name.c_str())}) {
        const bool runs = virDomainIsActive(existing.get()) > 0;
        return failed(fmt::format("cannot {} guest '{}': a guest of that name exists{}; {} under another name, or "
                                  "remove that guest first",
                                  what, name, runs ? " and is running" : "", what));
    }
    virResetLastError();
    const std::uint64_t verify_bytes = manifest_bytes(*manifest);
    const VerifyResult verified = verify_backup_files(backup_dir, *manifest, [&](std::uint64_t read) {
        job.progress(read, 2 * verify_bytes, "checking the backup");
        return !job.cancelled();
    });
    if (verified.cancelled)
        return cancelled();
    if (!verified.ok)
        return failed(fmt::format("cannot {} guest '{}': the backup in '{}' is damaged or incomplete: {}", what, name,
                                  backup_dir, verified.error));
    const auto domain_xml = read_small(backup_dir + "/" + manifest->domain_file()->name, 16u << 20);
    if (options.foreign && domain_xml)
        if (const std::string problem = foreign_domain_problem(*domain_xml); !problem.empty())
            return failed(fmt::format("cannot {} guest '{}': {}", what, name, problem));
    const auto files = domain_xml ? guest_files(*domain_xml, error) : std::nullopt;
    if (!files)
        return failed(fmt::format("cannot {} guest '{}': its domain XML cannot be read", what, name));

    // 2. Where everything goes; none of it may exist yet.
    RestoredPlaces places;
    places.name = name;
    std::vector<std::string> notes;
    if (std::error_code ec; !files->loader.empty() && !fs::exists(files->loader, ec)) {
        if (!files->firmware_autoselect)
            return failed(fmt::format("cannot {} guest '{}': its firmware '{}' is not on this host", what, name,
                                      files->loader));
        places.reselect_firmware = true;
        notes.push_back(fmt::format("its firmware '{}' is not on this host: libvirt picks this host's", files->loader));
    }
    for (const GuestDisk& medium : files->media)
        if (std::error_code ec; !fs::exists(medium.path, ec)) {
            places.eject.push_back(medium.dev);
            notes.push_back(fmt::format("the image of drive {} ('{}') is not on this host: the drive is empty",
                                        medium.dev, medium.path));
        }
    places.uuid = files->uuid.empty() || uuid_in_use(connection, files->uuid) ? random_uuid() : files->uuid;
    std::vector<Transfer> transfers;
    const auto dirs = state_dirs(connection);
    bool first_disk = true;
    for (const GuestDisk& disk : files->disks) {
        const BackupFile* copy = nullptr;
        for (const BackupFile& file : manifest->files)
            if (file.kind == BackupFileKind::Disk && file.dev == disk.dev)
                copy = &file;
        if (copy == nullptr)
            return failed(fmt::format("cannot {} guest '{}': the backup is incomplete, disk {} is not in it", what, name, disk.dev));
        // The shell's own disk name for the first disk: removing the guest finds it there.
        places.disks[disk.dev] = {first_disk ? fmt::format("{}/{}.{}", disk_dir, name, copy->format)
                                             : fmt::format("{}/{}-{}.{}", disk_dir, name, disk.dev, copy->format),
                                  copy->format};
        transfers.push_back({copy, places.disks[disk.dev].path});
        first_disk = false;
    }
    std::string tpm_dir;
    for (const BackupFile& file : manifest->files) {
        if (file.kind == BackupFileKind::Nvram || file.kind == BackupFileKind::Tpm) {
            if (!dirs)
                return failed(fmt::format("cannot {} guest '{}': this libvirt connection does not say where it keeps "
                                          "NVRAM and TPM state",
                                          what, name));
        }
        if (file.kind == BackupFileKind::Nvram) {
            places.nvram = fmt::format("{}/{}_VARS{}", dirs->nvram, name, fs::path(file.name).extension().string());
            transfers.push_back({&file, places.nvram});
        } else if (file.kind == BackupFileKind::Tpm) {
            tpm_dir = tpm_state_dir(*dirs, places.uuid);
            transfers.push_back({&file, tpm_dir + "/" + file.name.substr(4)});
        }
    }
    if (places.nvram.empty() && !files->nvram.empty() && dirs)
        places.nvram = fmt::format("{}/{}_VARS{}", dirs->nvram, name, fs::path(files->nvram).extension().string());
    std::uint64_t disk_bytes = 0;
    for (const Transfer& t : transfers) {
        std::error_code ec;
        if (fs::exists(t.to, ec))
            return failed(fmt::format("cannot {} guest '{}': '{}' exists already (a leftover?); move it away first", what,
                                      name, t.to));
        if (t.file->kind == BackupFileKind::Disk)
            disk_bytes += t.file->size;
    }
    if (std::error_code ec; !tpm_dir.empty() && fs::exists(tpm_dir, ec))
        return failed(fmt::format("cannot {} guest '{}': TPM state exists already in '{}'", what, name, tpm_dir));
    if (!options.move_files)
        if (const std::string problem = free_space_problem(disk_dir, disk_bytes); !problem.empty())
            return failed(fmt::format("cannot {} guest '{}': {}", what, name, problem));
    std::string defined_xml = restored_domain_xml(*domain_xml, places, error);
    if (defined_xml.empty())
        return failed(fmt::format("cannot {} guest '{}': {}", what, name, error));
    if (options.foreign) {
        defined_xml = confined_domain_xml(defined_xml, disk_dir, name);
        if (!files->media.empty())
            notes.push_back("its CD-ROM drives are empty");
    }
    if (job.cancelled())
        return cancelled();

    // 3. Copy (or move) the files, the secrets, then define: each step undone on failure.
    PartialFiles partial;
    if (!tpm_dir.empty())
        partial.add(tpm_dir);
    std::uint64_t done = verify_bytes;
    for (const Transfer& t : transfers) {
        const std::string from = backup_dir + "/" + t.file->name;
        std::error_code ec;
        fs::create_directories(fs::path(t.to).parent_path(), ec);
        partial.add(t.to);
        if (options.move_files && std::rename(from.c_str(), t.to.c_str()) == 0) {
            done += t.file->size;
            job.progress(done, 2 * verify_bytes, "putting the files in place");
            continue;
        }
        const std::uint64_t before = done;
        const CopyResult copied = copy_guest_file(from, t.to, {[&](std::uint64_t bytes) {
            job.progress(before + bytes, 2 * verify_bytes, "copying the guest's files");
            return !job.cancelled();
        }});
        if (copied.cancelled)
            return cancelled();
        if (!copied.ok)
            return failed(fmt::format("cannot {} guest '{}': {}", what, name, copied.error));
        done += t.file->size;
    }
    if (job.cancelled())
        return cancelled();
    for (const GuestDisk& disk : files->disks) {
        if (disk.secret_uuid.empty() || secret_defined(connection, disk.secret_uuid))
            continue;
        const BackupFile* value_file = nullptr;
        for (const BackupFile& file : manifest->files)
            if (file.kind == BackupFileKind::Secret && file.secret_uuid == disk.secret_uuid)
                value_file = &file;
        const auto value = value_file ? read_small(backup_dir + "/" + value_file->name, 64u << 10) : std::nullopt;
        if (!value) {
            notes.push_back(fmt::format("disk {} is encrypted: define its libvirt secret {} with the disk's passphrase "
                                        "before starting the guest",
                                        disk.dev, disk.secret_uuid));
            continue;
        }
        SecretPtr secret = define_disk_secret_holding(connection, name, places.disks[disk.dev].path, *value,
                                                      disk.secret_uuid, error);
        if (!secret)
            return failed(fmt::format("cannot {} guest '{}': {}", what, name, error));
        partial.add_undo([s = std::shared_ptr<virSecret>(secret.release(), virSecretFree)] {
            if (virSecretUndefine(s.get()) < 0)
                virResetLastError();
        });
    }
    DomainPtr domain{virDomainDefineXML(connection, defined_xml.c_str())};
    if (!domain)
        return failed(fmt::format("cannot {} guest '{}': libvirt refuses its definition: {}", what, name, last_libvirt_error()));
    partial.keep();
    log::info("guest '{}': {} from '{}' ({} files)", name, what_done, backup_dir, transfers.size());
    std::string message = name == manifest->guest ? fmt::format("{} guest '{}'", what_done, name)
                                                   : fmt::format("{} guest '{}' as '{}'", what_done, manifest->guest, name);
    for (const std::string& note : notes)
        message += "; " + note;
    return {true, false, message, name};
}

JobOutcome restore_guest(virConnectPtr connection, const std::string& backup_dir, const std::string& new_name,
                         const std::string& disk_dir, JobContext& job) {
    return restore_from_folder(connection, backup_dir, new_name, disk_dir, job, {});
}

} // namespace phyllome::guestview
