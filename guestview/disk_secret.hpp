// The libvirt secret that unlocks a guest's LUKS disk: defining it (replacing the shell's own
// leftover), recognising it as the shell's, and forgetting it.
#pragma once

#include <string>
#include <string_view>

#include "guestview/domain_model.hpp"
#include "guestview/libvirt_handles.hpp"

namespace phyllome::guestview {

struct DiskSecret {
    SecretPtr secret;       // set when the disk is to be encrypted
    std::string passphrase; // its value, for qemu-img; empty unless `secret`
    std::string note;       // why the disk is not encrypted (the connection keeps no secrets)
    std::string error;      // set: creating must stop; nothing was left defined
};

// Blocking. Defines the secret of spec's disk with a random passphrase (spec.secret_uuid is
// chosen when empty). A secret already defined for the disk's path while no file is there is
// the shell's leftover (the guest and its disk were removed with virsh): it is undefined first.
// When the disk file exists, guest_spec_problem refuses the spec before this runs.
DiskSecret define_disk_secret(virConnectPtr connection, GuestSpec& spec);

// The secret defined for the volume at `path`, or null (none, or no secrets on `connection`).
SecretPtr volume_secret(virConnectPtr connection, const std::string& path);

// Whether `secret` carries the shell's description for `guest`'s disk.
bool is_shell_disk_secret(virSecretPtr secret, std::string_view guest);

} // namespace phyllome::guestview
