#include "guestview/jobs/job_operations.hpp"

#include <fmt/format.h>

#include "guestview/jobs/guest_archive.hpp"
#include "guestview/jobs/guest_backup.hpp"
#include "guestview/jobs/guest_duplicate.hpp"
#include "guestview/jobs/guest_move.hpp"
#include "guestview/jobs/guest_restore.hpp"
#include "guestview/jobs/guest_snapshots.hpp"

namespace phyllome::guestview {

std::string job_request_problem(const JobRequest& r) {
    auto absolute = [](const std::string& path) { return !path.empty() && path.front() == '/'; };
    switch (r.kind) {
    case JobKind::Duplicate:
        if (r.target.empty())
            return "duplicate needs a name for the new guest";
        break;
    case JobKind::SnapshotRevert:
    case JobKind::SnapshotDelete:
        if (r.target.empty())
            return "which snapshot? (phyllomectl snapshot NAME list)";
        break;
    case JobKind::Backup:
        if (!absolute(r.target))
            return "back up needs the absolute path of a directory";
        break;
    case JobKind::Restore:
        if (!absolute(r.source))
            return "restore needs the absolute path of a backup";
        break;
    case JobKind::Export:
        if (!absolute(r.target))
            return "export needs the absolute path of the file to write";
        break;
    case JobKind::Import:
        if (!absolute(r.source))
            return "import needs the absolute path of an exported guest";
        break;
    case JobKind::Move:
        if (r.target.find("://") == std::string::npos)
            return "move needs the destination's libvirt URI, e.g. qemu+ssh://host/system";
        break;
    case JobKind::SnapshotTake:
        break;
    }
    if (r.guest.empty() && r.kind != JobKind::Restore && r.kind != JobKind::Import)
        return fmt::format("{} needs a guest name", to_string(r.kind));
    return {};
}

JobOutcome run_job_operation(virConnectPtr connection, const JobRequest& r, const std::string& disk_dir, JobContext& job) {
    switch (r.kind) {
    case JobKind::Duplicate: return duplicate_guest(connection, r.guest, r.target, disk_dir, job);
    case JobKind::Backup: return backup_guest(connection, r.guest, r.target, job);
    case JobKind::Restore: return restore_guest(connection, r.source, r.target, disk_dir, job);
    case JobKind::Export: return export_guest(connection, r.guest, r.target, r.include_secrets, job);
    case JobKind::Import: return import_guest(connection, r.source, disk_dir, job);
    case JobKind::SnapshotTake: return take_snapshot(connection, r.guest, r.target, job);
    case JobKind::SnapshotRevert: return revert_snapshot(connection, r.guest, r.target, job);
    case JobKind::SnapshotDelete: return delete_snapshot(connection, r.guest, r.target, job);
    case JobKind::Move: return move_guest(connection, r.guest, r.target, job);
    }
    return JobOutcome{false, false, fmt::format("cannot {}: unknown job", to_string(r.kind)), {}};
}

} // namespace phyllome::guestview
