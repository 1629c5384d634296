// Long work on a guest (duplicate, snapshot, back up, restore, export, import, move): what an
// operation sees of the job that runs it. Operations are plain blocking functions that run on a
// job's own thread (never the loop, never the action worker: a 20 GB copy must not hold up a
// start); the job runner (guest_jobs.hpp) owns the thread, reports progress to the shell and
// turns a cancel into either `cancelled()` or virDomainAbortJob on the watched domain.
//
// Contract for every operation:
// - Check what can be checked before touching anything (the guest's state, the name, free
//   space) and fail with a message that names the guest, the cause and what to do.
// - Report progress in bytes (`total` 0 while unknown) with a short phase for the user.
// - Poll `cancelled()` between chunks; on cancel or failure remove every partial copy and leave
//   the original guest exactly as it was, then return ok=false, cancelled=true/false.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

typedef struct _virDomain* virDomainPtr;

namespace phyllome::guestview {

enum class JobKind { Duplicate, SnapshotTake, SnapshotRevert, SnapshotDelete, Backup, Restore, Export, Import, Move };
std::string_view to_string(JobKind); // "duplicate", "take a snapshot", ..., "move"
// One word for the control protocol: "duplicate", "snapshot-take", "snapshot-revert",
// "snapshot-delete", "backup", "restore", "export", "import", "move"; and back.
std::string_view slug(JobKind);
std::optional<JobKind> job_kind_from_slug(std::string_view);

class JobContext {
public:
    virtual ~JobContext() = default;
    // Thread-safe; cheap enough to call per chunk (the runner rate-limits what it sends).
    virtual void progress(std::uint64_t done, std::uint64_t total, std::string_view phase) = 0;
    virtual bool cancelled() const = 0;
    // While set, the runner polls virDomainGetJobStats on `domain` (a libvirt job: backup,
    // migration, a snapshot with memory) for progress, and a cancel calls virDomainAbortJob on
    // it. The operation keeps `domain` alive until it calls watch_domain_job(nullptr).
    virtual void watch_domain_job(virDomainPtr domain) = 0;
};

struct JobOutcome {
    bool ok = false;
    bool cancelled = false;
    std::string message; // !ok: the error for the user; ok: a note or empty
    // The guest the job made or changed (the duplicate, the restored or imported guest), so the
    // inventory reads it again at once.
    std::string guest;
};

} // namespace phyllome::guestview
