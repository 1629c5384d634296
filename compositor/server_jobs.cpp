// The Server's long jobs: started from the overlay's keys, shown on it with their progress, and
// a notice when one ends.
#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>

#include <fmt/format.h>

#include "compositor/job_status.hpp"
#include "compositor/new_guest.hpp"
#include "compositor/server.hpp"
#include "config/log.hpp"

namespace phyllome::compositor {
namespace {

// `guest`'s backup folders in `dir` (<guest>-<YYYYMMDD-HHMMSS>[-N] with a manifest), newest first.
std::vector<std::string> find_backups(const std::string& dir, const std::string& guest) {
    std::vector<std::string> found;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
        const std::string name = entry.path().filename().string();
        if (name.size() > guest.size() + 1 && name.starts_with(guest + "-") &&
            std::isdigit(static_cast<unsigned char>(name[guest.size() + 1])) &&
            std::filesystem::exists(entry.path() / "manifest", ec))
            found.push_back(entry.path().string());
    }
    std::ranges::sort(found, std::greater<>());
    return found;
}

} // namespace

void Server::on_jobs_changed() {
    const auto& jobs = inventory_->jobs();
    for (const guestview::JobInfo& job : jobs) {
        auto it = job_states_.find(job.id);
        const bool ended_before = it != job_states_.end() && guestview::finished(guestview::JobInfo{0, {}, it->second});
        job_states_[job.id] = job.state;
        if (guestview::finished(job) && !ended_before)
            overlay_model_.set_notice(fmt::format("{}: {}", job_title(job), job_progress_text(job)),
                                      job.state == guestview::JobState::Failed);
    }
    std::erase_if(job_states_, [&](const auto& entry) { return inventory_->find_job(entry.first) == nullptr; });
    overlay_model_.set_jobs(jobs);
    refresh_overlay();
}

void Server::start_job_from_overlay(guestview::JobKind kind, const std::string& guest) {
    guestview::JobRequest request{kind, guest, {}, {}, false};
    if (kind == guestview::JobKind::Duplicate) {
        // "win11 copy", then "win11 copy 2", …: the first name no guest has.
        std::string name = guest + "-copy";
        for (int n = 2; inventory_->find(name) != nullptr; ++n)
            name = fmt::format("{}-copy-{}", guest, n);
        request.target = name;
    } else if (kind == guestview::JobKind::Backup) {
        request.target = backup_directory(config().jobs.backup_directory);
    }
    run_job_from_overlay(std::move(request));
}

void Server::run_job_from_overlay(guestview::JobRequest request) {
    if (kiosk_) {
        overlay_model_.set_notice(fmt::format("This is a kiosk for {}: guests are not copied or backed up here",
                                              kiosk_->guest()),
                                  true);
        return;
    }
    guestview::JobInfo shown{0, request};
    overlay_model_.set_notice(fmt::format("{}…", job_title(shown)), false);
    inventory_->start_job(std::move(request), [this, title = job_title(shown)](std::uint32_t id, std::string error) {
        if (id == 0) {
            log::warn("cannot {}: {}", title, error);
            overlay_model_.set_notice(fmt::format("Cannot {}: {}", title, error), true);
            refresh_overlay();
        }
    });
}

void Server::open_guest_card(const std::string& guest) {
    const guestview::GuestInfo* info = inventory_->find(guest);
    if (info == nullptr)
        return;
    GuestCard::Places places;
    places.backup_dir = backup_directory(config().jobs.backup_directory);
    places.backups = find_backups(places.backup_dir, guest);
    places.destinations = config().jobs.move_destinations;
    for (const auto& g : inventory_->guests())
        places.guest_names.push_back(g.name);
    for (const auto& entry : usb_->list())
        places.usb_devices.push_back(entry.device);
    overlay_model_.open_guest_card(GuestCard(*info, std::move(places)));
}

} // namespace phyllome::compositor
