// Moving a guest to new hardware (issue 17): a live migration of the running guest, with its
// local disks, NVRAM and TPM state, to another host's libvirt (qemu+ssh://host/system), after
// which it runs and is defined there and is gone from here.
//
// How (found with two real libvirt 11.3 daemons, tests/guestview/guest_move_qemu_test.cpp):
// - Client-driven (not peer-to-peer) migration: our process opens the destination, so ssh
//   uses the user's keys, not the source daemon's, and an embedded source driver works alike
//   (tested; the destination then keeps the NVRAM at the embedded root's path, and the disks at
//   theirs: same paths on both hosts is how libvirt's disk copy works).
// - The disks travel by libvirt's NBD copy (VIR_MIGRATE_NON_SHARED_DISK with the disks named in
//   VIR_MIGRATE_PARAM_MIGRATE_DISKS); their empty copies are made first through the
//   destination's storage API (move_storage.hpp), which checks the room and lets us remove them
//   when the move fails. Memory and disks go straight from QEMU to QEMU over TCP to the host the
//   URI names (tcp://HOST: ports 49152-49215 must be open there), unencrypted.
// - The TPM state goes in the migration stream (VIR_MIGRATE_TPM_SHARED is not set: it is the
//   host's own); UEFI variables are in the guest's flash memory, which migrates with its RAM
//   and which QEMU writes to the destination's NVRAM file once the guest runs there (checked:
//   byte for byte, and the guest boots again there with its TPM).
// - QEMU cannot migrate the clipboard's qemu-vdagent channel: it is unplugged for the move and
//   plugged in again where the guest runs after (move_channels.hpp).
// - A shut-off guest is refused: libvirt moves only a running guest's disks, and a copy of a
//   guest that is off is what export and import do.
// - An encrypted disk (LUKS, the shell's default on qemu:///system) is encrypted anew there
//   under a new secret with a new random passphrase: this host's passphrase is a private libvirt
//   secret that never leaves it. The copy carries the guest's view of the disk (as its memory
//   travels, unencrypted on the network); the guest's definitions there name the new secret
//   (VIR_MIGRATE_PARAM_DEST_XML and PERSIST_XML).
// - Afterwards the guest is undefined here with its NVRAM and TPM state; its disk files here
//   stay (the outcome's message names them): the user deletes them once sure.
// - Cancel aborts the migration (the runner's virDomainAbortJob): the guest runs on here
//   untouched, and what was made on the destination (a half-defined guest, the disk copies, the
//   NVRAM libvirt made from the template and keeps after a cancel) is removed.
#pragma once

#include <string>

#include "guestview/jobs/guest_job.hpp"

typedef struct _virConnect* virConnectPtr;

namespace phyllome::guestview {

// Blocking: a job thread only. `destination_uri` is a libvirt URI of the other host.
JobOutcome move_guest(virConnectPtr source, const std::string& guest, const std::string& destination_uri,
                      JobContext& job);

// `uri` as a job thread opens it: an ssh transport (qemu+ssh://) gets no_tty=1, so ssh never
// waits for a password or a host key answer on a terminal the session does not have; it uses
// the user's keys and agent, and fails at once without them.
std::string without_prompts(const std::string& uri);

// The host a libvirt URI names ("qemu+ssh://me@host:22/system" -> "host"), empty for a local
// one (qemu:///system, a unix socket).
std::string uri_host(const std::string& uri);

} // namespace phyllome::guestview
