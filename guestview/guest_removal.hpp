// Removing a guest for good: its definition (with NVRAM and TPM state), the disks the shell made
// for it, and their secrets.
#pragma once

#include <string>

typedef struct _virConnect* virConnectPtr;

namespace phyllome::guestview {

// Blocking (call on the worker thread only). Refuses a guest that is not shut off. Undefines
// `guest` with its NVRAM, TPM state, managed save and snapshot/checkpoint metadata, then deletes
// each file disk the shell made for it: LUKS-unlocked by a secret with the shell's description
// for `guest`, or at <disk_dir>/<guest>.qcow2. Their secrets are undefined too. CD-ROMs, ISOs
// and disks from elsewhere stay. Returns an error that names the guest, or empty on success.
// `secrets`, when set, keeps the secrets instead of `connection` (tests).
std::string remove_guest_and_disks(virConnectPtr connection, const std::string& guest, const std::string& disk_dir,
                                   virConnectPtr secrets = nullptr);

// virDomainUndefineFlags' flags that take with a guest its managed save, snapshot and checkpoint
// metadata and TPM state (libvirt 8.9 and later), and its NVRAM unless `keep_nvram`.
unsigned undefine_flags(bool keep_nvram);

} // namespace phyllome::guestview
