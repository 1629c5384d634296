// Backing a guest up into a folder: its inactive domain XML (with the shell's metadata), every
// file disk, the NVRAM, swtpm's state and a manifest with each file's SHA-256 (backup_manifest.hpp).
// A running guest's disks come from libvirt's backup job (push mode, consistent as of its start;
// the guest runs on); a shut-off guest's are copied (copy_guest_file).
#pragma once

#include <string>

#include "guestview/jobs/guest_job.hpp"

typedef struct _virConnect* virConnectPtr;

namespace phyllome::guestview {

// Blocking (a job thread). Makes `directory`/<guest>-<YYYYMMDD-HHMMSS>/ and returns its path as
// the message. On cancel or failure nothing of it is left; the guest is never stopped or changed.
JobOutcome backup_guest(virConnectPtr connection, const std::string& guest, const std::string& directory,
                        JobContext& job);

struct BackupWriteOptions {
    // Also store the value of each encrypted disk's libvirt secret (export with secrets).
    bool include_secrets = false;
};

// The backup itself, into `folder`, which must not exist yet (backup_guest and export_guest).
// On failure or cancel `folder` is removed. ok: `message` is empty or a note.
JobOutcome write_guest_backup(virConnectPtr connection, const std::string& guest, const std::string& folder,
                              JobContext& job, const BackupWriteOptions& options = {});

} // namespace phyllome::guestview
