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

} // namespace phyllome::guestview
