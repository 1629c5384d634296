#include "guestview/jobs/guest_duplicate.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

#include <fmt/format.h>
#include <libvirt/libvirt.h>

#include "config/log.hpp"
#include "guestview/disk_secret.hpp"
#include "guestview/domain_model.hpp"
#include "guestview/guest_inventory.hpp"
#include "guestview/guest_removal.hpp"
#include "guestview/jobs/duplicate_definition.hpp"
#include "guestview/jobs/file_copy.hpp"
#include "guestview/jobs/guest_files.hpp"
#include "guestview/jobs/guest_state_files.hpp"
#include "guestview/jobs/new_identity.hpp"
#include "guestview/libvirt_handles.hpp"

namespace phyllome::guestview {
namespace {

namespace fs = std::filesystem;

// What a duplicate made so far; unless committed, it all goes again (the original is never
// touched, so there is nothing of it to restore).
class Undo {
public:
    explicit Undo(std::string guest) : guest_(std::move(guest)) {}
    ~Undo() {
        if (!committed_)
            roll_back();
    }
    Undo(const Undo&) = delete;
    Undo& operator=(const Undo&) = delete;

    void file(std::string path) { files_.push_back(std::move(path)); }
    void directory(std::string path) { directories_.push_back(std::move(path)); }
    void secret(SecretPtr secret) { secrets_.push_back(std::move(secret)); }
    void domain(DomainPtr domain) { domain_ = std::move(domain); }
    virDomainPtr domain() const { return domain_.get(); }
    void commit() { committed_ = true; }

private:
    void roll_back() {
        if (domain_) {
            // The NVRAM file goes with files_ when it is our copy; one already at that path is
            // not ours to delete.
            if (virDomainUndefineFlags(domain_.get(), undefine_flags(true)) < 0)
                log::error("duplicate '{}': cannot undefine it again: {}", guest_, last_libvirt_error());
        }
        std::error_code ec;
        for (const std::string& path : directories_)
            if (fs::remove_all(path, ec); ec)
                log::error("duplicate '{}': cannot remove '{}': {}", guest_, path, ec.message());
        for (const std::string& path : files_)
            if (fs::remove(path, ec); ec)
                log::error("duplicate '{}': cannot remove '{}': {}", guest_, path, ec.message());
        for (SecretPtr& secret : secrets_)
            if (virSecretUndefine(secret.get()) < 0)
                log::error("duplicate '{}': cannot undefine its disk's secret: {}", guest_, last_libvirt_error());
    }

    std::string guest_;
    bool committed_ = false;
    std::vector<std::string> files_, directories_;
    std::vector<SecretPtr> secrets_;
    DomainPtr domain_;
};

// The original's state and the new name, checked before anything is made. Empty when fine.
std::string state_problem(virConnectPtr connection, virDomainPtr original, const std::string& guest,
                          const std::string& new_name) {
    int state = VIR_DOMAIN_NOSTATE;
    if (virDomainGetState(original, &state, nullptr, 0) < 0)
        return fmt::format("cannot tell whether guest '{}' runs: {}", guest, last_libvirt_error());
    if (state != VIR_DOMAIN_SHUTOFF)
        return fmt::format("guest '{}' is {}: shut it down first", guest,
                           state == VIR_DOMAIN_PAUSED || state == VIR_DOMAIN_PMSUSPENDED ? "paused" : "running");
    if (new_name == guest || DomainPtr{virDomainLookupByName(connection, new_name.c_str())})
        return fmt::format("a guest named '{}' exists already: choose another name", new_name);
    virResetLastError();
    return {};
}

// The original disks' passphrases, read from their secrets; an error when one cannot be.
std::string read_passphrases(virConnectPtr secrets, const GuestFiles& original, const std::string& guest,
                             std::vector<SecretValue>& passphrases) {
    passphrases.resize(original.disks.size());
    for (std::size_t i = 0; i < original.disks.size(); ++i) {
        const GuestDisk& disk = original.disks[i];
        if (disk.secret_uuid.empty())
            continue;
        passphrases[i] = read_secret_value(secrets, disk.secret_uuid);
        if (!passphrases[i].error.empty())
            return fmt::format("guest '{}''s disk '{}' is encrypted and libvirt does not give out its key ({}); "
                               "the copy could not be opened without it",
                               guest, disk.path, passphrases[i].error);
    }
    return {};
}

// libvirt keeps one secret per volume path: the shell's leftover of a removed guest of the new
// name would block the copy's (disk_secret.hpp clears it for a new guest the same way). Another
// one is someone else's. Empty when the path is free now.
std::string clear_leftover_secret(virConnectPtr secrets, const std::string& path, const std::string& new_name) {
    SecretPtr stale = volume_secret(secrets, path);
    if (!stale)
        return {};
    if (!is_shell_disk_secret(stale.get(), new_name) || virSecretUndefine(stale.get()) < 0)
        return fmt::format("a libvirt secret for '{}' exists already (UUID {}); undefine it first", path,
                           secret_uuid(stale.get()));
    log::info("duplicate '{}': undefined the leftover secret of '{}' (its disk was gone)", new_name, path);
    return {};
}

// The NVRAM and TPM state live where libvirt keeps them (root's on qemu:///system): a user who
// may not read or write there learns it before a long disk copy, not after.
std::string state_access_problem(const std::string& nvram, const std::string& tpm_dir) {
    auto denied = [](const std::string& path, int mode) {
        return ::access(path.c_str(), mode) != 0;
    };
    if (!nvram.empty() && (denied(nvram, R_OK) || denied(fs::path(nvram).parent_path().string(), W_OK | X_OK)))
        return fmt::format("this user may not copy its firmware variables in '{}' ({})", nvram, std::strerror(errno));
    if (!tpm_dir.empty() && (denied(tpm_dir, R_OK | X_OK) || denied(fs::path(tpm_dir).parent_path().string(), W_OK | X_OK)))
        return fmt::format("this user may not copy its TPM state in '{}' ({})", tpm_dir, std::strerror(errno));
    return {};
}

} // namespace

JobOutcome duplicate_guest(virConnectPtr connection, const std::string& guest, const std::string& new_name,
                           const std::string& disk_dir, JobContext& job, virConnectPtr secrets) {
    JobOutcome outcome;
    outcome.guest = new_name;
    auto failed = [&](const std::string& cause) {
        outcome.message = fmt::format("cannot duplicate guest '{}': {}", guest, cause);
        log::error("{}", outcome.message);
        return outcome;
    };
    if (secrets == nullptr)
        secrets = connection;
    if (std::string problem = guest_name_problem(new_name); !problem.empty())
        return failed(problem);
    const auto dirs = state_dirs(connection);
    if (!dirs) {
        LibvirtString uri{virConnectGetURI(connection)};
        return failed(fmt::format("its files are on another machine ({}), not here", uri ? uri.get() : "?"));
    }
    DomainPtr original{virDomainLookupByName(connection, guest.c_str())};
    if (!original)
        return failed(last_libvirt_error());
    if (std::string problem = state_problem(connection, original.get(), guest, new_name); !problem.empty())
        return failed(problem);
    std::error_code ec;
    if (!fs::path(disk_dir).is_absolute() || !fs::is_directory(disk_dir, ec))
        return failed(fmt::format("the disk directory '{}' is not an absolute path to a directory", disk_dir));

    LibvirtString xml{virDomainGetXMLDesc(original.get(), VIR_DOMAIN_XML_INACTIVE)};
    if (!xml)
        return failed(last_libvirt_error());
    const OriginalGuest original_files = read_original(xml.get(), new_name, disk_dir);
    if (!original_files.error.empty())
        return failed(original_files.error);
    const GuestFiles& files = original_files.files;
    const std::vector<std::string>& copies = original_files.copies;
    std::uint64_t disk_bytes = 0;
    for (std::size_t i = 0; i < files.disks.size(); ++i) {
        if (!fs::is_regular_file(files.disks[i].path, ec))
            return failed(fmt::format("its disk '{}' is missing", files.disks[i].path));
        if (fs::exists(copies[i], ec))
            return failed(fmt::format("'{}' exists already; it is never overwritten", copies[i]));
        disk_bytes += allocated_bytes(files.disks[i].path);
    }
    std::vector<SecretValue> passphrases;
    if (std::string problem = read_passphrases(secrets, files, guest, passphrases); !problem.empty())
        return failed(problem);
    if (std::string problem = free_space_problem(disk_dir, disk_bytes); !problem.empty())
        return failed(problem);
    const std::string nvram = !files.nvram.empty() && fs::exists(files.nvram, ec) ? files.nvram : "";
    std::string tpm_dir;
    if (files.tpm_emulator) {
        tpm_dir = tpm_state_dir(*dirs, files.uuid, files.tpm_source_dir);
        if (!fs::is_directory(tpm_dir, ec))
            tpm_dir.clear(); // never started: libvirt makes the new guest's on its first start
    }
    if (std::string problem = state_access_problem(nvram, tpm_dir); !problem.empty())
        return failed(problem);
    const std::uint64_t total =
        disk_bytes + (nvram.empty() ? 0 : allocated_bytes(nvram)) + (tpm_dir.empty() ? 0 : directory_allocated_bytes(tpm_dir));
    const GuestIdentity identity = new_identity(identities_of_all_guests(connection));

    Undo undo(new_name);
    std::uint64_t done = 0;
    auto progress = [&](const char* phase) {
        return CopyProgress{[&job, &done, total, phase](std::uint64_t copied) {
            job.progress(done + copied, total, phase);
            return !job.cancelled();
        }};
    };
    auto cancelled = [&] {
        outcome.cancelled = true;
        outcome.message = fmt::format("duplicating guest '{}' was cancelled; nothing of '{}' was kept", guest, new_name);
        log::info("{}", outcome.message);
        return outcome;
    };
    auto copy_failed = [&](const CopyResult& result) { return result.cancelled ? cancelled() : failed(result.error); };

    job.progress(0, total, "copying disks");
    for (std::size_t i = 0; i < files.disks.size(); ++i) {
        const CopyResult copied = copy_guest_file(files.disks[i].path, copies[i], progress("copying disks"));
        if (!copied.ok)
            return copy_failed(copied);
        undo.file(copies[i]);
        done += copied.bytes;
        log::info("duplicate '{}': copied '{}' to '{}' ({} MiB{})", new_name, files.disks[i].path, copies[i],
                  copied.bytes >> 20, copied.reflinked ? ", reflinked" : "");
    }
    if (job.cancelled())
        return cancelled();

    std::vector<std::string> secret_uuids(files.disks.size());
    for (std::size_t i = 0; i < files.disks.size(); ++i) {
        if (files.disks[i].secret_uuid.empty())
            continue;
        if (std::string problem = clear_leftover_secret(secrets, copies[i], new_name); !problem.empty())
            return failed(problem);
        std::string problem;
        SecretPtr secret = define_disk_secret_holding(secrets, new_name, copies[i], passphrases[i].value, {}, problem);
        if (!secret)
            return failed(problem);
        secret_uuids[i] = secret_uuid(secret.get());
        undo.secret(std::move(secret));
    }

    std::string error;
    const std::string new_xml = duplicate_xml(xml.get(), new_name, original_files, secret_uuids, error);
    if (new_xml.empty())
        return failed(error);
    undo.domain(DomainPtr{virDomainDefineXMLFlags(connection, new_xml.c_str(), VIR_DOMAIN_DEFINE_VALIDATE)});
    if (undo.domain() == nullptr)
        return failed("cannot define the copy: " + last_libvirt_error());
    LibvirtString defined{virDomainGetXMLDesc(undo.domain(), VIR_DOMAIN_XML_INACTIVE)};
    const GuestFiles paths = defined ? guest_files(defined.get(), error).value_or(GuestFiles{}) : GuestFiles{};

    if (!nvram.empty()) {
        if (paths.nvram.empty())
            return failed("libvirt gave the copy no NVRAM file");
        if (fs::exists(paths.nvram, ec))
            return failed(fmt::format("'{}', where libvirt keeps the copy's firmware variables, exists already (a "
                                      "guest of that name removed without them?); move it away first",
                                      paths.nvram));
        const CopyResult copied = copy_guest_file(nvram, paths.nvram, progress("copying firmware variables"));
        if (!copied.ok)
            return copy_failed(copied);
        undo.file(paths.nvram);
        done += copied.bytes;
    }
    if (!tpm_dir.empty()) {
        const std::string new_tpm_dir = tpm_state_dir(*dirs, paths.uuid);
        if (new_tpm_dir.empty())
            return failed("libvirt gave the copy no UUID");
        fs::create_directories(fs::path(new_tpm_dir).parent_path(), ec);
        const CopyResult copied = copy_state_directory(tpm_dir, new_tpm_dir, progress("copying TPM state"));
        if (!copied.ok)
            return copy_failed(copied);
        undo.directory(new_tpm_dir);
        done += copied.bytes;
    }
    if (job.cancelled())
        return cancelled();

    const std::string element = identity_element(identity);
    const std::string ns{identity_namespace};
    if (!element.empty() && virDomainSetMetadata(undo.domain(), VIR_DOMAIN_METADATA_ELEMENT, element.c_str(), "phyllome",
                                                 ns.c_str(), VIR_DOMAIN_AFFECT_CONFIG) < 0)
        return failed("cannot give the copy its number and colour: " + last_libvirt_error());

    undo.commit();
    job.progress(total, total, "done");
    outcome.ok = true;
    outcome.message = fmt::format("'{}' is a copy of '{}' ({} MiB copied)", new_name, guest, done >> 20);
    log::info("{}", outcome.message);
    return outcome;
}

} // namespace phyllome::guestview
