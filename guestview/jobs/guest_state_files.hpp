// Copying a directory of a guest's state outside its definition (swtpm's TPM state, found by
// guest_files.hpp's tpm_state_dir) with copy_guest_file, for the jobs that copy a whole guest.
#pragma once

#include <cstdint>
#include <string>

#include "guestview/jobs/file_copy.hpp"

namespace phyllome::guestview {

// The allocated bytes of every regular file under `directory` (0 when it does not exist).
std::uint64_t directory_allocated_bytes(const std::string& directory);

// Copies the tree at `from` to `to`, which must not exist: directories with their modes,
// regular files with copy_guest_file (sockets and lock files' contents are not state, but an
// empty lock file is copied like any file). As root, the copies keep their owners (swtpm runs
// as its own user). On failure or cancel `to` is removed. `bytes` in the result: data copied.
CopyResult copy_state_directory(const std::string& from, const std::string& to, const CopyProgress& progress = {});

} // namespace phyllome::guestview
