// The overlay's long jobs: their list, and the keys that start one on the selected guest or
// cancel the newest that runs.
#include "compositor/overlay_model.hpp"

namespace phyllome::compositor {

void OverlayModel::open_guest_card(GuestCard card) {
    guest_card_.emplace(std::move(card));
    dirty_ = true;
}

void OverlayModel::close_guest_card() {
    if (guest_card_)
        dirty_ = true;
    guest_card_.reset();
}

std::optional<OverlayCommand> OverlayModel::guest_card_key(Key key, Clock::time_point now) {
    dirty_ = true;
    std::optional<guestview::JobRequest> request;
    switch (key) {
    case Key::Up: guest_card_->move(-1); break;
    case Key::Down: guest_card_->move(1); break;
    case Key::Cancel: guest_card_.reset(); break;
    case Key::Enter:
        if (auto change = guest_card_->usb_enter()) { // the card stays: the row shows the new choice
            OverlayCommand command{.kind = OverlayCommand::Kind::UsbRemember, .target = guest_card_->guest(),
                                   .device = change->device};
            command.request.target = change->what == UsbRemember::Always  ? "always"
                                     : change->what == UsbRemember::Never ? "never"
                                                                          : "forget";
            return command;
        }
        request = guest_card_->enter();
        break;
    case Key::Remove: request = guest_card_->remove(now); break;
    default: break;
    }
    if (!request)
        return std::nullopt;
    guest_card_.reset(); // the job's bar shows below the guests
    OverlayCommand command{OverlayCommand::Kind::RunJob, guestview::Action::Start, request->guest, request->kind};
    command.request = std::move(*request);
    return command;
}

void OverlayModel::set_jobs(std::vector<guestview::JobInfo> jobs) {
    if (jobs == jobs_)
        return;
    jobs_ = std::move(jobs);
    dirty_ = true;
}

void OverlayModel::set_usb(std::vector<UsbEntry> entries) {
    if (entries == usb_)
        return;
    usb_ = std::move(entries);
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
    if (key == Key::GuestCard)
        return OverlayCommand{OverlayCommand::Kind::GuestCard, guestview::Action::Start, g->name};
    if (key == Key::Usb)
        return OverlayCommand{.kind = OverlayCommand::Kind::Usb, .target = g->name};
    const JobKind kind = key == Key::Duplicate ? JobKind::Duplicate
                         : key == Key::Snapshot ? JobKind::SnapshotTake
                                                : JobKind::Backup;
    return OverlayCommand{OverlayCommand::Kind::StartJob, guestview::Action::Start, g->name, kind};
}

} // namespace phyllome::compositor
