// The overlay's long jobs: their list, and the keys that start one on the selected guest or
// cancel the newest that runs.
#include "compositor/overlay_model.hpp"

namespace phyllome::compositor {

void OverlayModel::set_jobs(std::vector<guestview::JobInfo> jobs) {
    if (jobs == jobs_)
        return;
    jobs_ = std::move(jobs);
    dirty_ = true;
}

std::optional<OverlayCommand> OverlayModel::job_key(Key key) {
    using guestview::JobKind;
    if (key == Key::CancelJob) {
        for (const guestview::JobInfo& job : jobs_) // newest first
            if (job.state == guestview::JobState::Running)
                return OverlayCommand{OverlayCommand::Kind::CancelJob, guestview::Action::Start, std::to_string(job.id)};
        return std::nullopt;
    }
    const guestview::GuestInfo* g = selected_guest();
    if (g == nullptr)
        return std::nullopt;
    const JobKind kind = key == Key::Duplicate ? JobKind::Duplicate
                         : key == Key::Snapshot ? JobKind::SnapshotTake
                                                : JobKind::Backup;
    return OverlayCommand{OverlayCommand::Kind::StartJob, guestview::Action::Start, g->name, kind};
}

} // namespace phyllome::compositor
