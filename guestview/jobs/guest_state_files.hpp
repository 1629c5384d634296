// Where libvirt keeps a guest's state outside its definition (swtpm's TPM state), and copying a
// directory of such state with copy_guest_file, for the jobs that copy a whole guest.
#pragma once

#include <cstdint>
#include <string>

#include "guestview/jobs/file_copy.hpp"

namespace phyllome::guestview {

// Whether the files of `uri`'s guests are on this machine (no host in the URI).
bool local_libvirt_uri(const std::string& uri);

// The directory swtpm keeps the TPM state of the guest `uuid` in (it holds tpm2/): the
// emulator's explicit <source path> when set, else libvirt's default for `uri`'s driver:
// ROOT/lib/swtpm/UUID (qemu:///embed?root=ROOT), /var/lib/libvirt/swtpm/UUID (system),
// ~/.config/libvirt/qemu/swtpm/UUID (session). Empty for a remote URI.
std::string tpm_state_dir(const std::string& uri, const std::string& uuid, const std::string& explicit_source = {});

// The allocated bytes of every regular file under `directory` (0 when it does not exist).
std::uint64_t directory_allocated_bytes(const std::string& directory);

// Copies the tree at `from` to `to`, which must not exist: directories with their modes,
// regular files with copy_guest_file (sockets and lock files' contents are not state, but an
// empty lock file is copied like any file). As root, the copies keep their owners (swtpm runs
// as its own user). On failure or cancel `to` is removed. `bytes` in the result: data copied.
CopyResult copy_state_directory(const std::string& from, const std::string& to, const CopyProgress& progress = {});

} // namespace phyllome::guestview
