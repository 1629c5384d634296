// Duplicating a shut-off guest: a new guest with its own name, UUID, MAC addresses, identity
// (number and colour), and its own copies of the original's file disks, NVRAM and TPM state.
#pragma once

#include <string>

#include "guestview/jobs/guest_job.hpp"

typedef struct _virConnect* virConnectPtr;

namespace phyllome::guestview {

// Blocking (a job thread). Refuses a guest that is not shut off, a new name that is invalid or
// taken, copies that would not fit in `disk_dir`, and a remote connection (the files must be
// here). Every file disk (device='disk', type='file') is copied with copy_guest_file to
// disk_dir/<new_name>.<ext> (disk_dir/<new_name>-2.<ext>, ... for the others); CD-ROMs stay
// shared. A LUKS disk's copy keeps its key: a new secret of the shell's for `new_name` holds the
// same passphrase (libvirt hands out a secret's value only when it is not private, so a disk
// whose secret is private is refused before anything is copied). The NVRAM is copied to the path
// libvirt names for the new guest, the swtpm state to the new UUID's directory, so the guest's
// firmware variables and TPM (BitLocker's keys) carry over. Progress is in bytes over all the
// files. On cancel or failure every copy, the new definition and its secrets are removed and
// the original is untouched. `secrets`, when set, keeps the secrets instead of `connection`.
JobOutcome duplicate_guest(virConnectPtr connection, const std::string& guest, const std::string& new_name,
                           const std::string& disk_dir, JobContext& job, virConnectPtr secrets = nullptr);

} // namespace phyllome::guestview
