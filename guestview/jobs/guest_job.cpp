#include "guestview/jobs/guest_job.hpp"

namespace phyllome::guestview {

std::string_view to_string(JobKind kind) {
    switch (kind) {
    case JobKind::Duplicate: return "duplicate";
    case JobKind::SnapshotTake: return "take a snapshot";
    case JobKind::SnapshotRevert: return "revert to a snapshot";
    case JobKind::SnapshotDelete: return "delete a snapshot";
    case JobKind::Backup: return "back up";
    case JobKind::Restore: return "restore";
    case JobKind::Export: return "export";
    case JobKind::Import: return "import";
    case JobKind::Move: return "move";
    }
    return "job";
}

std::string_view slug(JobKind kind) {
    switch (kind) {
    case JobKind::Duplicate: return "duplicate";
    case JobKind::SnapshotTake: return "snapshot-take";
    case JobKind::SnapshotRevert: return "snapshot-revert";
    case JobKind::SnapshotDelete: return "snapshot-delete";
    case JobKind::Backup: return "backup";
    case JobKind::Restore: return "restore";
    case JobKind::Export: return "export";
    case JobKind::Import: return "import";
    case JobKind::Move: return "move";
    }
    return "job";
}

std::optional<JobKind> job_kind_from_slug(std::string_view text) {
    for (JobKind kind : {JobKind::Duplicate, JobKind::SnapshotTake, JobKind::SnapshotRevert, JobKind::SnapshotDelete,
                         JobKind::Backup, JobKind::Restore, JobKind::Export, JobKind::Import, JobKind::Move})
        if (slug(kind) == text)
            return kind;
    return std::nullopt;
}

} // namespace phyllome::guestview
