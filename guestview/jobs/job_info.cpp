#include "guestview/guest_inventory.hpp"

#include <algorithm>

namespace phyllome::guestview {

std::string_view to_string(JobState state) {
    switch (state) {
    case JobState::Running: return "running";
    case JobState::Cancelling: return "cancelling";
    case JobState::Done: return "done";
    case JobState::Failed: return "failed";
    case JobState::Cancelled: return "cancelled";
    }
    return "unknown";
}

bool finished(const JobInfo& job) {
    return job.state == JobState::Done || job.state == JobState::Failed || job.state == JobState::Cancelled;
}

std::optional<std::uint64_t> seconds_left(const JobInfo& job) {
    // Under a second or a few percent in, the rate says little yet.
    if (finished(job) || job.total == 0 || job.done == 0 || job.elapsed_ms < 1000 || job.done * 50 < job.total)
        return std::nullopt;
    const double rate = static_cast<double>(job.done) / static_cast<double>(job.elapsed_ms);
    const double left_ms = static_cast<double>(job.total > job.done ? job.total - job.done : 0) / rate;
    return static_cast<std::uint64_t>(left_ms / 1000 + 0.5);
}

std::vector<JobInfo> merge_job_lists(std::vector<JobInfo> update, const std::vector<JobInfo>& known) {
    for (const JobInfo& old : known)
        if (finished(old) && std::ranges::none_of(update, [&](const JobInfo& j) { return j.id == old.id; }))
            update.push_back(old);
    return update;
}

bool fail_unfinished_jobs(std::vector<JobInfo>& jobs, const std::string& why) {
    bool any = false;
    for (JobInfo& job : jobs)
        if (!finished(job)) {
            job.state = JobState::Failed;
            job.message = why;
            any = true;
        }
    return any;
}

} // namespace phyllome::guestview
