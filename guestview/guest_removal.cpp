#include "guestview/guest_removal.hpp"

#include <algorithm>
#include <filesystem>
#include <vector>

#include <fmt/format.h>

#include "config/log.hpp"
#include "guestview/disk_secret.hpp"
#include "guestview/jobs/guest_snapshots.hpp"
#include "guestview/jobs/guest_files.hpp"
#include "guestview/libvirt_handles.hpp"

namespace phyllome::guestview {

unsigned undefine_flags(bool keep_nvram) {
    unsigned flags = VIR_DOMAIN_UNDEFINE_MANAGED_SAVE | VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA |
                     VIR_DOMAIN_UNDEFINE_CHECKPOINTS_METADATA |
                     (keep_nvram ? VIR_DOMAIN_UNDEFINE_KEEP_NVRAM : VIR_DOMAIN_UNDEFINE_NVRAM);
#if LIBVIR_CHECK_VERSION(8, 9, 0)
    flags |= VIR_DOMAIN_UNDEFINE_TPM;
#endif
    return flags;
}

std::string remove_guest_and_disks(virConnectPtr connection, const std::string& guest, const std::string& disk_dir,
                                   virConnectPtr secrets) {
    if (secrets == nullptr)
        secrets = connection;
    DomainPtr domain{virDomainLookupByName(connection, guest.c_str())};
    if (!domain)
        return fmt::format("cannot find guest '{}': {}", guest, last_libvirt_error());
    const int active = virDomainIsActive(domain.get());
    if (active < 0)
        return fmt::format("cannot tell whether guest '{}' runs: {}", guest, last_libvirt_error());
    if (active > 0)
        return fmt::format("guest '{}' is not shut off: shut it down first", guest);
    LibvirtString xml{virDomainGetXMLDesc(domain.get(), VIR_DOMAIN_XML_INACTIVE)};
    if (!xml)
        return fmt::format("cannot read guest '{}': {}", guest, last_libvirt_error());
    std::string error;
    const auto files = guest_files(xml.get(), error);
    if (!files)
        return fmt::format("cannot read guest '{}': {}", guest, error);

    // Only what the shell made goes: its secret's description or its own file name says so. A
    // disk the user attached from elsewhere may hold data that outlives this guest, and an ISO
    // (a CD-ROM, never in GuestFiles::disks) is the user's installer.
    const std::filesystem::path own_disk = std::filesystem::path(disk_dir) / (guest + ".qcow2");
    // The shell's snapshots name their files after the guest beside its disk
    // (guest_snapshots.hpp: GUEST-vda.NAME.qcow2, GUEST.NAME.mem).
    auto made_by_shells_snapshot = [&](const std::string& path) {
        const std::filesystem::path p = std::filesystem::path(path).lexically_normal();
        const std::string name = p.filename().string();
        return p.parent_path() == own_disk.parent_path().lexically_normal() && name != own_disk.filename().string() &&
               (name.starts_with(guest + "-") || name.starts_with(guest + ".")) &&
               (name.ends_with(".qcow2") || name.ends_with(".mem"));
    };
    struct Doomed {
        std::string path;
        std::vector<SecretPtr> secrets;
    };
    std::vector<Doomed> doomed;
    for (const GuestDisk& disk : files->disks) {
        SecretPtr by_uuid;
        if (!disk.secret_uuid.empty()) {
            by_uuid.reset(virSecretLookupByUUIDString(secrets, disk.secret_uuid.c_str()));
            if (!by_uuid)
                virResetLastError();
        }
        const bool shells_secret = by_uuid && is_shell_disk_secret(by_uuid.get(), guest);
        if (!shells_secret && std::filesystem::path(disk.path).lexically_normal() != own_disk.lexically_normal() &&
            !made_by_shells_snapshot(disk.path))
            continue;
        Doomed entry{disk.path, {}};
        if (by_uuid)
            entry.secrets.push_back(std::move(by_uuid));
        // The secret by the volume's path too: it would block the next disk at that path.
        if (SecretPtr by_path = volume_secret(secrets, disk.path); by_path && secret_uuid(by_path.get()) != disk.secret_uuid)
            entry.secrets.push_back(std::move(by_path));
        doomed.push_back(std::move(entry));
    }

    // What the guest's snapshots hold (layers below the current disk, memory images) goes too,
    // when the shell's snapshots made it beside the guest's own disk.
    std::string snapshot_error;
    for (const std::string& path : snapshot_files(domain.get(), &snapshot_error))
        if (made_by_shells_snapshot(path) || std::filesystem::path(path).lexically_normal() == own_disk.lexically_normal())
            if (std::ranges::none_of(doomed, [&](const Doomed& d) { return d.path == path; }))
                doomed.push_back({path, {}});
    if (!snapshot_error.empty())
        log::warn("guest '{}': cannot list its snapshots' files, they stay: {}", guest, snapshot_error);

    if (virDomainUndefineFlags(domain.get(), undefine_flags(false)) < 0)
        return fmt::format("cannot undefine guest '{}': {}", guest, last_libvirt_error());
    log::info("guest '{}': undefined, with its NVRAM and TPM state", guest);

    // The guest is gone by now; what follows is cleanup, reported but not undone.
    std::string problems;
    for (Doomed& entry : doomed) {
        std::error_code ec;
        std::filesystem::remove(entry.path, ec);
        if (ec)
            problems += fmt::format("{}cannot delete '{}': {}", problems.empty() ? "" : "; ", entry.path, ec.message());
        else
            log::info("guest '{}': deleted its disk '{}'", guest, entry.path);
        for (SecretPtr& secret : entry.secrets)
            if (virSecretUndefine(secret.get()) < 0)
                problems += fmt::format("{}cannot undefine the secret of '{}': {}", problems.empty() ? "" : "; ",
                                        entry.path, last_libvirt_error());
    }
    if (!problems.empty())
        return fmt::format("guest '{}' is removed, but: {}", guest, problems);
    return {};
}

} // namespace phyllome::guestview
