// The libvirt secret that unlocks a guest's LUKS disk: defining it (replacing the shell's own
// leftover, or holding a restored or duplicated disk's passphrase), reading its value out,
// recognising it as the shell's, and forgetting it.
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

// Blocking. Defines the shell's secret for `guest`'s disk at `volume` holding `value` (a restored
// or duplicated disk's passphrase); `uuid` empty: libvirt chooses one. Null with `error` when it
// cannot be; then nothing is left defined.
SecretPtr define_disk_secret_holding(virConnectPtr connection, std::string_view guest, const std::string& volume,
                                     std::string_view value, std::string_view uuid, std::string& error);

// A disk's passphrase read out of its secret (to export it, or to give a duplicate's disk the
// same); wiped when it goes.
struct SecretValue {
    std::string value;
    std::string error; // set: why it cannot be read (no such secret, a private secret, no secret driver)
    SecretValue() = default;
    SecretValue(SecretValue&&) = default;
    SecretValue& operator=(SecretValue&&) = default;
    ~SecretValue();
};
SecretValue read_secret_value(virConnectPtr connection, const std::string& uuid);

// Whether `connection` knows the secret `uuid` already.
bool secret_defined(virConnectPtr connection, const std::string& uuid);

// The secret defined for the volume at `path`, or null (none, or no secrets on `connection`).
SecretPtr volume_secret(virConnectPtr connection, const std::string& path);

// `secret`'s UUID, or empty when libvirt cannot say.
std::string secret_uuid(virSecretPtr secret);

// Whether `secret` carries the shell's description for `guest`'s disk.
bool is_shell_disk_secret(virSecretPtr secret, std::string_view guest);

} // namespace phyllome::guestview
