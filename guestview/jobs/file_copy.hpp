// Copying a guest's files (disks, NVRAM, TPM state) for the long jobs: a reflink where the
// filesystem allows (instant, shares blocks until written), else a sparse-aware copy in chunks
// that reports progress and stops on cancel. Blocking: job threads only.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

namespace phyllome::guestview {

struct CopyProgress {
    // Bytes of data copied so far (holes are skipped and not counted), and whether to go on.
    std::function<bool(std::uint64_t copied)> step;
};

struct CopyResult {
    bool ok = false;
    bool cancelled = false;
    bool reflinked = false;
    std::uint64_t bytes = 0; // data bytes copied (the allocated size for a reflink)
    std::string error;       // !ok && !cancelled: names both files and the cause
};

// Copies `from` to `to`, which must not exist (O_EXCL: never overwrites). Keeps the mode; the
// copy is fsynced. On failure or cancel `to` is removed. `step` is called at least every 8 MiB.
CopyResult copy_guest_file(const std::string& from, const std::string& to, const CopyProgress& progress = {});

// The bytes a copy of `path` takes on disk (allocated blocks, not the apparent size of a
// sparse file); 0 when it does not exist.
std::uint64_t allocated_bytes(const std::string& path);

// Empty when the filesystem holding `directory` has `needed` bytes free for us (plus a margin
// of 1 % of the filesystem, at least 256 MiB: a full disk stops every guest on it), else the
// message for the user: how much is needed, how much is free, and where.
std::string free_space_problem(const std::string& directory, std::uint64_t needed);

} // namespace phyllome::guestview
