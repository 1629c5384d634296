// Restoring a guest from a backup folder (guest_backup.hpp) as a new definition on this host.
//
// The name must be free: a guest of that name, running or shut off, is never replaced (restore
// under `new_name`, or remove the guest first). Replacing a shut-off guest's disks in place would
// need its old files moved aside and put back on every failure path; a free name needs no undo
// beyond deleting what the restore itself made, and the user's guest is never at risk.
#pragma once

#include <string>

#include "guestview/jobs/guest_job.hpp"

typedef struct _virConnect* virConnectPtr;

namespace phyllome::guestview {

// Blocking (a job thread). Verifies every file's size and SHA-256 before anything is made (a
// damaged or incomplete backup is refused, naming the file), then copies the disks to
// `disk_dir`/<name>.qcow2 (further disks <name>-<dev>.<format>), the NVRAM and TPM state to where
// this libvirt keeps them, and defines the guest (shut off). `new_name` empty: the backed-up name.
// The backed-up uuid is kept unless another guest has it. On cancel or failure nothing is left.
JobOutcome restore_guest(virConnectPtr connection, const std::string& backup_dir, const std::string& new_name,
                         const std::string& disk_dir, JobContext& job);

struct RestoreOptions {
    // Move the files instead of copying them (import: the folder is its own unpacked staging).
    bool move_files = false;
    std::string what = "restore"; // "import": for messages
    // From elsewhere (import_policy.hpp): refused if it reaches host devices, confined otherwise.
    bool foreign = false;
};

JobOutcome restore_from_folder(virConnectPtr connection, const std::string& backup_dir, const std::string& new_name,
                               const std::string& disk_dir, JobContext& job, const RestoreOptions& options);

} // namespace phyllome::guestview
