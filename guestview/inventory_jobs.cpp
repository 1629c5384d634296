// Inventory's long jobs: checked on the loop, run by the JobRunner, and the guests they made or
// changed read again when they end.
#include "guestview/inventory_impl.hpp"

#include "config/log.hpp"
#include "guestview/domain_model.hpp"
#include "guestview/jobs/job_operations.hpp"

namespace phyllome::guestview {

void Inventory::Impl::start_job(JobRequest request, std::function<void(std::uint32_t, std::string)> started) {
    std::string error = job_request_problem(request);
    const bool needs_guest = request.kind != JobKind::Restore && request.kind != JobKind::Import;
    if (error.empty() && !connection)
        error = fmt::format("not connected to libvirt ({})", status.uri);
    if (error.empty() && needs_guest && find_mutable(request.guest) == nullptr)
        error = fmt::format("there is no guest named '{}'", request.guest);
    // A restore or an import names no guest here: only the name it makes counts.
    if (error.empty() && ((!request.guest.empty() && job_runner.busy(request.guest)) ||
                          (!request.target.empty() && job_runner.busy(request.target))))
        error = fmt::format("guest '{}' has a job running: wait for it, or cancel it",
                            request.guest.empty() ? request.target : request.guest);
    if (error.empty() && request.kind == JobKind::Duplicate && find_mutable(request.target) != nullptr)
        error = fmt::format("a guest named '{}' exists already", request.target);
    std::uint32_t id = 0;
    if (error.empty()) {
        const std::string disk_dir = default_disk_dir(status.uri);
        id = job_runner.start(std::move(request), share_connection(connection.get()),
                              [disk_dir](virConnectPtr c, const JobRequest& r, JobContext& job) {
                                  return run_job_operation(c, r, disk_dir, job);
                              });
    } else {
        log::warn("cannot {} '{}': {}", to_string(request.kind), request.guest, error);
    }
    mailbox.post([started = std::move(started), id, error = std::move(error)]() mutable {
        if (started)
            started(id, std::move(error));
    });
}

void Inventory::Impl::job_ended(const JobInfo& info, const JobOutcome& outcome) {
    if (!connection)
        return;
    // Most drivers sent DEFINED/UNDEFINED events already; not all, and not for every change.
    bool changed = false;
    if (!info.request.guest.empty())
        changed |= refresh_by_name(info.request.guest, true);
    if (!outcome.guest.empty() && outcome.guest != info.request.guest)
        changed |= refresh_by_name(outcome.guest, true);
    if (changed)
        notify_changed();
}

void Inventory::start_job(JobRequest request, std::function<void(std::uint32_t id, std::string error)> started) {
    impl_->start_job(std::move(request), std::move(started));
}

void Inventory::cancel_job(std::uint32_t id) { impl_->job_runner.cancel(id); }

const std::vector<JobInfo>& Inventory::jobs() const { return impl_->job_runner.jobs(); }

} // namespace phyllome::guestview
