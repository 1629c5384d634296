// A consistent copy of a running guest's disks through libvirt's backup API in push mode: QEMU
// writes each disk, as it was when the job began, to a new qcow2 file while the guest runs on.
#pragma once

#include <string>
#include <vector>

#include "guestview/jobs/guest_files.hpp"
#include "guestview/jobs/guest_job.hpp"

namespace phyllome::guestview {

struct PushTarget {
    GuestDisk disk;
    std::string file; // must not exist: libvirt creates it (qcow2; LUKS with the disk's secret)
};

struct PushResult {
    bool ok = false;
    bool cancelled = false;
    std::string error;
};

// The <domainbackup> for `targets`; every disk in `skipped` (by target dev) is left out.
std::string push_backup_xml(const std::vector<PushTarget>& targets, const std::vector<std::string>& skipped);

// Blocking: begins the backup job, watches it through `job` (progress, abort on cancel) and waits
// until it ends. `done_before` and `total` place its bytes in the whole job's progress.
PushResult run_push_backup(virDomainPtr domain, const std::vector<PushTarget>& targets,
                           const std::vector<std::string>& skipped, JobContext& job, std::uint64_t done_before,
                           std::uint64_t total);

} // namespace phyllome::guestview
