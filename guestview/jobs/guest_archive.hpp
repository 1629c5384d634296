// Export and import: a guest as ONE file, a tar (POSIX pax, written and read by libarchive)
// holding what a backup folder holds (guest_backup.hpp): manifest, domain XML, disks, NVRAM, TPM
// state, and the disks' secret values only when asked for.
#pragma once

#include <string>

#include "guestview/jobs/guest_job.hpp"

typedef struct _virConnect* virConnectPtr;

namespace phyllome::guestview {

// Blocking (a job thread). Writes `file` (which must not exist); a running guest is backed up
// consistently and keeps running. With `include_secrets` the value of each encrypted disk's
// libvirt secret goes into the archive (refused when libvirt keeps it private); without, the
// disks stay encrypted and the importing host needs the passphrase. On cancel or failure no file
// is left.
JobOutcome export_guest(virConnectPtr connection, const std::string& guest, const std::string& file,
                        bool include_secrets, JobContext& job);

// Blocking (a job thread). Unpacks `file` beside `disk_dir`, checks it like a restore (every
// checksum before anything is defined) and defines the guest on this host under its own name
// (which must be free), its disks in `disk_dir`, its NVRAM and TPM state where this libvirt keeps
// them. A secret in the archive is defined; a missing one is named in the message. The archive
// comes from elsewhere: a domain that reaches host devices is refused, its CD-ROMs are emptied
// and its log files go to `disk_dir` (import_policy.hpp).
JobOutcome import_guest(virConnectPtr connection, const std::string& file, const std::string& disk_dir, JobContext& job);

// The archive part alone (for tests and import): unpacks `file` into `folder` (which exists and
// is empty); refuses entries that are not plain files with safe names.
struct UnpackResult {
    bool ok = false;
    bool cancelled = false;
    std::string error;
};
UnpackResult unpack_guest_archive(const std::string& file, const std::string& folder, JobContext& job);

} // namespace phyllome::guestview
