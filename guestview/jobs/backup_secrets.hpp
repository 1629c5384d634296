// An encrypted disk's libvirt secret in a backup or export: its value read out (only when the
// user asks to export secrets) and defined again on the restoring host.
#pragma once

#include <string>

#include "guestview/libvirt_handles.hpp"

namespace phyllome::guestview {

struct SecretValue {
    std::string value;
    std::string error; // set: why it cannot be read (no such secret, a private secret, no secret driver)
};
SecretValue read_secret_value(virConnectPtr connection, const std::string& uuid);

// Whether `connection` knows the secret `uuid` already.
bool secret_defined(virConnectPtr connection, const std::string& uuid);

struct DefinedSecret {
    SecretPtr secret;  // set: defined by us (undefine it if the restore fails)
    std::string error;
};
// Defines `uuid` with `value` for the disk at `volume` of `guest`, described as the shell's own
// (so removing the guest removes it too). Private: libvirt hands the value only to QEMU.
DefinedSecret define_restored_secret(virConnectPtr connection, const std::string& uuid, const std::string& value,
                                     const std::string& volume, const std::string& guest);

} // namespace phyllome::guestview
