// Snapshots are libvirt's EXTERNAL snapshots: each covered disk gets a qcow2 overlay that the
// guest writes to from then on (the snapshot is what lies below it), and a running guest's
// memory goes to a file beside its disk. Why not internal ones (everything inside the qcow2),
// tried on libvirt 11.3 / QEMU 10.0 with the shell's machine model (q35, OVMF through
// firmware='efi', TPM 2.0 by swtpm, qcow2 disk), embedded driver and system daemon alike:
// - The model's NVRAM is raw (Debian's firmware descriptors offer OVMF in raw only), and
//   libvirt refuses: "Operation not supported: internal snapshots of a VM with pflash based
//   firmware require QCOW2 nvram format".
// - A qcow2 NVRAM would need the machine model to give up firmware autoselection
//   (<nvram format='qcow2'/> with firmware='efi': "operation failed: Unable to find 'efi'
//   firmware that is compatible with the current configuration"), name OVMF's files itself
//   and make the NVRAM with qemu-img beforehand (an explicit loader with a raw template:
//   "Operation not supported: conversion of the nvram template to another target format is
//   not supported"). Done that way internal snapshots do work, TPM included (0.7 s to take,
//   5.5 s to revert), but only for guests made after the change: every existing guest keeps
//   its raw NVRAM. External snapshots work for all of them, with no change to the model.
// Either kind saves a running guest's memory through QEMU's migration code, which QEMU 10.0
// refuses while the model's clipboard channel is plugged in ("Requested operation is not valid:
// cannot migrate domain: The vdagent chardev doesn't yet support migration"): the channel is
// unplugged for the snapshot and plugged in again (ClipboardUnplugged below).
// What an external snapshot does not hold: the UEFI variables (the NVRAM, a raw file libvirt
// keeps) and, for a shut-off guest, the TPM's state (swtpm's files); a running guest's TPM
// state is in its memory image, so reverting it brings the TPM back too. libvirt reverts
// external snapshots (since 9.9) by starting a fresh overlay on the snapshot, and deletes one
// by committing its overlay into the layer below, so later snapshots keep every byte. It also
// gives a read-only CD-ROM a new overlay beside its ISO on every revert (libvirt's doing:
// <disk snapshot='no'/> does not stop it): where the ISO's folder is read-only to libvirt a
// revert can fail until the installer is ejected.
#include "guestview/jobs/guest_snapshots.hpp"

#include <algorithm>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>

#include <fmt/format.h>

#include "config/log.hpp"
#include "guestview/jobs/file_copy.hpp"
#include "guestview/jobs/snapshot_xml.hpp"
#include "guestview/libvirt_handles.hpp"

namespace phyllome::guestview {
namespace {

namespace fs = std::filesystem;

struct SnapshotFreer {
    void operator()(virDomainSnapshotPtr snapshot) const { virDomainSnapshotFree(snapshot); }
};
using SnapshotPtr = std::unique_ptr<virDomainSnapshot, SnapshotFreer>;

constexpr std::size_t max_name_length = 64;

JobOutcome failed(std::string message) {
    log::error("{}", message);
    return JobOutcome{false, false, std::move(message), {}};
}

// The guest and the snapshot named, or the outcome that says which is missing.
struct Target {
    DomainPtr domain;
    SnapshotPtr snapshot;
};
std::optional<JobOutcome> find(virConnectPtr connection, const std::string& guest, const std::string& name,
                               Target& target) {
    target.domain.reset(virDomainLookupByName(connection, guest.c_str()));
    if (!target.domain)
        return failed(fmt::format("there is no guest named '{}'", guest));
    target.snapshot.reset(virDomainSnapshotLookupByName(target.domain.get(), name.c_str(), 0));
    if (!target.snapshot) {
        if (virGetLastErrorCode() == VIR_ERR_NO_DOMAIN_SNAPSHOT)
            return failed(fmt::format("guest '{}' has no snapshot named '{}'", guest, name));
        return failed(fmt::format("cannot find snapshot '{}' of guest '{}': {}", name, guest, last_libvirt_error()));
    }
    return std::nullopt;
}

bool snapshot_exists(virDomainPtr domain, const std::string& name) {
    SnapshotPtr snapshot{virDomainSnapshotLookupByName(domain, name.c_str(), 0)};
    if (!snapshot)
        virResetLastError();
    return snapshot != nullptr;
}

std::string domain_xml(virDomainPtr domain, unsigned flags) {
    LibvirtString xml{virDomainGetXMLDesc(domain, flags)};
    return xml ? std::string(xml.get()) : std::string();
}

// Where the snapshot's files go, each name free: overlays beside their disks, the memory beside
// the first. Empty when fine, else why not.
std::string plan_files(const std::string& guest, const std::string& tag, std::vector<SnapshotDisk>& disks,
                       bool with_memory, std::string& memory_file) {
    std::string folder;
    for (const SnapshotDisk& disk : disks)
        if (disk.covered && folder.empty() && !disk.source.starts_with("/dev/"))
            folder = fs::path(disk.source).parent_path().string();
    if (folder.empty())
        return "it has no disk file beside which the snapshot's files could go";
    for (int attempt = 1; attempt < 100; ++attempt) {
        const std::string suffix = attempt == 1 ? tag : fmt::format("{}-{}", tag, attempt);
        std::error_code ec;
        bool free = true;
        for (SnapshotDisk& disk : disks) {
            if (!disk.covered)
                continue;
            const fs::path dir = disk.source.starts_with("/dev/") ? fs::path(folder) : fs::path(disk.source).parent_path();
            disk.overlay = (dir / fmt::format("{}-{}.{}.qcow2", guest, disk.target, suffix)).string();
            free = free && !fs::exists(disk.overlay, ec);
        }
        memory_file = with_memory ? (fs::path(folder) / fmt::format("{}.{}.mem", guest, suffix)).string() : "";
        if (free && (memory_file.empty() || !fs::exists(memory_file, ec)))
            return {};
    }
    return "every file name for the snapshot is taken";
}

// After a failed or aborted snapshot: the files libvirt may have begun that no disk uses.
void remove_leftovers(virDomainPtr domain, const std::vector<SnapshotDisk>& disks, const std::string& memory_file) {
    const std::string live = domain_xml(domain, 0);
    const std::string inactive = domain_xml(domain, VIR_DOMAIN_XML_INACTIVE);
    std::vector<std::string> files;
    for (const SnapshotDisk& disk : disks)
        if (disk.covered)
            files.push_back(disk.overlay);
    if (!memory_file.empty())
        files.push_back(memory_file);
    for (const std::string& file : files) {
        std::error_code ec;
        const bool in_use = live.find("'" + file + "'") != std::string::npos ||
                            inactive.find("'" + file + "'") != std::string::npos;
        if (!in_use && fs::remove(file, ec))
            log::info("removed '{}', left by the unfinished snapshot", file);
    }
}

// QEMU 10.0 cannot save a guest's memory while its clipboard channel (qemu-vdagent) is plugged
// in: the channel is unplugged for the snapshot and plugged in again after it, so the guest's
// agent reconnects. (QEMU 10.1 migrates the channel; unplugging there costs only a blink.)
class ClipboardUnplugged {
public:
    ClipboardUnplugged(virDomainPtr domain, const std::string& guest)
        : domain_(domain), guest_(guest), devices_(memory_blocking_devices(domain_xml(domain, 0))) {
        for (auto it = devices_.begin(); it != devices_.end();) {
            if (virDomainDetachDeviceFlags(domain_, it->c_str(), VIR_DOMAIN_AFFECT_LIVE) < 0) {
                log::warn("guest '{}': cannot unplug its clipboard channel for the snapshot: {}", guest_,
                          last_libvirt_error());
                it = devices_.erase(it);
            } else {
                ++it;
            }
        }
    }
    ~ClipboardUnplugged() { plug_in(domain_, guest_, devices_); }
    ClipboardUnplugged(const ClipboardUnplugged&) = delete;
    ClipboardUnplugged& operator=(const ClipboardUnplugged&) = delete;

    static void plug_in(virDomainPtr domain, const std::string& guest, const std::vector<std::string>& devices) {
        for (const std::string& device : devices)
            if (virDomainAttachDeviceFlags(domain, device.c_str(), VIR_DOMAIN_AFFECT_LIVE) < 0)
                log::warn("guest '{}': cannot plug its clipboard channel in again: {}", guest, last_libvirt_error());
    }

private:
    virDomainPtr domain_;
    const std::string& guest_;
    std::vector<std::string> devices_;
};

std::string free_default_name(virDomainPtr domain) {
    const std::string base = default_snapshot_name(std::time(nullptr));
    std::string name = base;
    for (int n = 2; snapshot_exists(domain, name) && n < 1000; ++n)
        name = fmt::format("{} ({})", base, n);
    return name;
}

} // namespace

std::string default_snapshot_name(std::time_t now) {
    std::tm local{};
    localtime_r(&now, &local);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%d %H:%M", &local);
    return text;
}

std::string snapshot_name_problem(const std::string& name) {
    if (name.empty() || name.size() > max_name_length)
        return fmt::format("a snapshot's name must have 1 to {} characters", max_name_length);
    // libvirt keeps it as a file name of its own and in XML: no slashes, no control characters.
    const bool bad = std::ranges::any_of(name, [](char c) { return c == '/' || static_cast<unsigned char>(c) < 0x20; });
    if (bad || name.front() == '.' || name.front() == ' ' || name.back() == ' ')
        return fmt::format("the snapshot name '{}' may not hold '/' or control characters, start with '.' or start or "
                           "end with a space",
                           name);
    return {};
}

std::vector<SnapshotInfo> list_snapshots(virDomainPtr domain, std::string* error) {
    std::vector<SnapshotInfo> list;
    virDomainSnapshotPtr* raw = nullptr;
    const int count = virDomainListAllSnapshots(domain, &raw, 0);
    if (count < 0) {
        if (error)
            *error = fmt::format("cannot list the snapshots of guest '{}': {}", virDomainGetName(domain),
                                 last_libvirt_error());
        return list;
    }
    std::vector<SnapshotPtr> snapshots;
    for (int i = 0; i < count; ++i)
        snapshots.emplace_back(raw[i]);
    std::free(raw);
    for (const SnapshotPtr& snapshot : snapshots) {
        LibvirtString xml{virDomainSnapshotGetXMLDesc(snapshot.get(), 0)};
        SnapshotInfo info;
        if (!xml || !parse_snapshot_info(xml.get(), info)) {
            virResetLastError();
            info.name = virDomainSnapshotGetName(snapshot.get());
        }
        info.current = virDomainSnapshotIsCurrent(snapshot.get(), 0) == 1;
        list.push_back(std::move(info));
    }
    // Two snapshots in one second: the one deeper in the tree is the newer.
    std::map<std::string, std::string> parents;
    for (const SnapshotInfo& info : list)
        parents[info.name] = info.parent;
    const auto depth = [&](const SnapshotInfo& info) {
        std::size_t n = 0;
        for (auto it = parents.find(info.parent); it != parents.end() && n < parents.size(); it = parents.find(it->second))
            ++n;
        return n;
    };
    std::ranges::sort(list, [&](const SnapshotInfo& a, const SnapshotInfo& b) {
        if (a.created != b.created)
            return a.created > b.created;
        const std::size_t da = depth(a), db = depth(b);
        return da != db ? da > db : a.name > b.name;
    });
    return list;
}

std::vector<std::string> snapshot_files(virDomainPtr domain, std::string* error) {
    std::vector<std::string> files;
    virDomainSnapshotPtr* raw = nullptr;
    const int count = virDomainListAllSnapshots(domain, &raw, 0);
    if (count < 0) {
        if (error)
            *error = fmt::format("cannot list the snapshots of guest '{}': {}", virDomainGetName(domain),
                                 last_libvirt_error());
        return files;
    }
    std::vector<SnapshotPtr> snapshots;
    for (int i = 0; i < count; ++i)
        snapshots.emplace_back(raw[i]);
    std::free(raw);
    for (const SnapshotPtr& snapshot : snapshots)
        if (LibvirtString xml{virDomainSnapshotGetXMLDesc(snapshot.get(), 0)})
            for (std::string& file : snapshot_file_paths(xml.get()))
                files.push_back(std::move(file));
    std::ranges::sort(files);
    files.erase(std::unique(files.begin(), files.end()), files.end());
    return files;
}

JobOutcome take_snapshot(virConnectPtr connection, const std::string& guest, const std::string& wanted,
                         JobContext& job) {
    DomainPtr domain{virDomainLookupByName(connection, guest.c_str())};
    if (!domain)
        return failed(fmt::format("there is no guest named '{}'", guest));
    const std::string name = wanted.empty() ? free_default_name(domain.get()) : wanted;
    if (std::string why = snapshot_name_problem(name); !why.empty())
        return failed(fmt::format("cannot take a snapshot of guest '{}': {}", guest, why));
    if (snapshot_exists(domain.get(), name))
        return failed(fmt::format("guest '{}' has a snapshot named '{}' already", guest, name));

    const int active = virDomainIsActive(domain.get());
    if (active < 0)
        return failed(fmt::format("cannot tell whether guest '{}' runs: {}", guest, last_libvirt_error()));
    std::string error;
    std::vector<SnapshotDisk> disks = snapshot_disks(domain_xml(domain.get(), 0), &error);
    if (!error.empty())
        return failed(fmt::format("cannot take a snapshot of guest '{}': {}", guest, error));
    for (const SnapshotDisk& disk : disks)
        if (!disk.problem.empty())
            return failed(fmt::format("cannot take a snapshot of guest '{}': {}", guest, disk.problem));
    if (std::ranges::none_of(disks, [](const SnapshotDisk& d) { return d.covered; }))
        return failed(fmt::format("cannot take a snapshot of guest '{}': it has no writable disk", guest));
    std::string memory_file;
    if (std::string why = plan_files(guest, file_tag(name), disks, active > 0, memory_file); !why.empty())
        return failed(fmt::format("cannot take a snapshot of guest '{}': {}", guest, why));
    if (!memory_file.empty()) {
        virDomainInfo info{};
        const std::uint64_t memory = virDomainGetInfo(domain.get(), &info) == 0 ? info.memory * 1024ULL : 0;
        if (std::string why = free_space_problem(fs::path(memory_file).parent_path().string(), memory); !why.empty())
            return failed(fmt::format("cannot take a snapshot of guest '{}': {}", guest, why));
    }
    if (job.cancelled())
        return JobOutcome{false, true, fmt::format("the snapshot of guest '{}' was cancelled", guest), {}};

    const std::string request = snapshot_request_xml(name, memory_file, disks);
    // ATOMIC: libvirt undoes its half of a failed snapshot (no metadata, overlays not in use).
    // LIVE: the guest keeps running while its memory is saved, instead of freezing for as long.
    unsigned flags = VIR_DOMAIN_SNAPSHOT_CREATE_ATOMIC;
    if (active > 0)
        flags |= VIR_DOMAIN_SNAPSHOT_CREATE_LIVE;
    else
        flags |= VIR_DOMAIN_SNAPSHOT_CREATE_DISK_ONLY;
    log::info("guest '{}': taking snapshot '{}'{}", guest, name, active > 0 ? " with memory" : "");
    SnapshotPtr snapshot;
    std::string cause;
    {
        std::optional<ClipboardUnplugged> unplugged;
        if (active > 0)
            unplugged.emplace(domain.get(), guest);
        if (!job.cancelled()) { // a cancel while the channel was unplugged: the guard plugs it in
            job.progress(0, 0, active > 0 ? "saving the guest's memory and disks" : "freezing the guest's disks");
            // Only around the call: an abort before libvirt's job began would find none.
            if (active > 0)
                job.watch_domain_job(domain.get());
            snapshot.reset(virDomainSnapshotCreateXML(domain.get(), request.c_str(), flags));
            cause = snapshot ? std::string() : last_libvirt_error();
            if (active > 0)
                job.watch_domain_job(nullptr);
        }
    }
    if (!snapshot) {
        remove_leftovers(domain.get(), disks, memory_file);
        if (snapshot_exists(domain.get(), name)) { // not with ATOMIC, but never leave a broken one
            SnapshotPtr broken{virDomainSnapshotLookupByName(domain.get(), name.c_str(), 0)};
            if (broken)
                virDomainSnapshotDelete(broken.get(), VIR_DOMAIN_SNAPSHOT_DELETE_METADATA_ONLY);
        }
        if (job.cancelled())
            return JobOutcome{false, true, fmt::format("the snapshot of guest '{}' was cancelled", guest), {}};
        return failed(fmt::format("cannot take snapshot '{}' of guest '{}': {}", name, guest, cause));
    }
    job.progress(1, 1, "snapshot taken");
    log::info("guest '{}': snapshot '{}' taken", guest, name);
    return JobOutcome{true, false, fmt::format("snapshot '{}' of guest '{}' taken", name, guest), guest};
}

JobOutcome revert_snapshot(virConnectPtr connection, const std::string& guest, const std::string& name,
                           JobContext& job) {
    Target target;
    if (auto outcome = find(connection, guest, name, target))
        return *outcome;
    if (job.cancelled())
        return JobOutcome{false, true, fmt::format("the revert of guest '{}' was cancelled", guest), {}};
    // A running snapshot: libvirt stops the guest, starts it again from the memory image (the
    // shell's display reconnects); a shut-off one: the guest ends shut off.
    job.progress(0, 0, fmt::format("reverting to '{}'", name));
    log::info("guest '{}': reverting to snapshot '{}'", guest, name);
    if (virDomainRevertToSnapshot(target.snapshot.get(), 0) < 0)
        return failed(fmt::format("cannot revert guest '{}' to snapshot '{}': {}", guest, name, last_libvirt_error()));
    job.progress(1, 1, "reverted");
    const bool running = virDomainIsActive(target.domain.get()) == 1;
    // The snapshot's guest had its clipboard channel unplugged (ClipboardUnplugged): back in.
    if (running && memory_blocking_devices(domain_xml(target.domain.get(), 0)).empty())
        ClipboardUnplugged::plug_in(target.domain.get(), guest,
                                    memory_blocking_devices(domain_xml(target.domain.get(), VIR_DOMAIN_XML_INACTIVE)));
    log::info("guest '{}': reverted to snapshot '{}' ({})", guest, name, running ? "running" : "shut off");
    return JobOutcome{true, false,
                      fmt::format("guest '{}' is back at snapshot '{}'{}", guest, name, running ? "" : ", shut off"),
                      guest};
}

JobOutcome delete_snapshot(virConnectPtr connection, const std::string& guest, const std::string& name,
                           JobContext& job) {
    Target target;
    if (auto outcome = find(connection, guest, name, target))
        return *outcome;
    if (job.cancelled())
        return JobOutcome{false, true, fmt::format("deleting snapshot '{}' of guest '{}' was cancelled", name, guest), {}};
    // libvirt commits the snapshot's overlay into the layer below it and drops its memory image:
    // what came after it (later snapshots, the guest now) stays as it is.
    job.progress(0, 0, fmt::format("merging '{}' into the guest's disks", name));
    log::info("guest '{}': deleting snapshot '{}'", guest, name);
    if (virDomainSnapshotDelete(target.snapshot.get(), 0) < 0) {
        const std::string cause = last_libvirt_error();
        // libvirt cannot merge the layer the guest was reverted onto while later snapshots
        // grow from it too.
        const char* hint = cause.find("not a leaf") != std::string::npos
                               ? " (the guest was reverted to it and later snapshots build on it: delete those first)"
                               : "";
        return failed(fmt::format("cannot delete snapshot '{}' of guest '{}': {}{}", name, guest, cause, hint));
    }
    job.progress(1, 1, "deleted");
    return JobOutcome{true, false, fmt::format("snapshot '{}' of guest '{}' deleted", name, guest), guest};
}

} // namespace phyllome::guestview
