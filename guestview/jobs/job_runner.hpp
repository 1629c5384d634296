// Runs the long jobs on a guest (guest_job.hpp), each on a thread of its own so one job never
// waits for another or for the action worker, and keeps their JobInfo current on the loop:
// progress from the operation (rate-limited to 5 updates a second), or from libvirt's own job
// (virDomainGetJobInfo, polled on a second thread while the operation watches a domain); a
// cancel sets the flag the operation polls and aborts the watched libvirt job.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <string_view>
#include <vector>

#include "guestview/guest_inventory.hpp"
#include "guestview/libvirt_handles.hpp"

namespace phyllome::guestview {

class LoopMailbox;

class JobRunner {
public:
    using Operation = std::function<JobOutcome(virConnectPtr, const JobRequest&, JobContext&)>;
    // Both run on the loop: `changed` after any job's JobInfo changed, `ended` once per job when
    // its operation returned (before `changed`).
    JobRunner(LoopMailbox& mailbox, std::function<void()> changed,
              std::function<void(const JobInfo&, const JobOutcome&)> ended);
    // Cancels every running job and waits for it to end.
    ~JobRunner();
    JobRunner(const JobRunner&) = delete;
    JobRunner& operator=(const JobRunner&) = delete;

    // Starts `operation` at once on its own thread with its own connection reference; returns the id.
    std::uint32_t start(JobRequest request, ConnectionPtr connection, Operation operation);
    void cancel(std::uint32_t id);
    // Running jobs, then the last finished ones, newest first.
    const std::vector<JobInfo>& jobs() const { return infos_; }
    // A job that is not finished works on `guest` (as its guest or, for a new guest, its target).
    bool busy(std::string_view guest) const;

private:
    struct Job;
    void sync(std::uint32_t id);
    void finish(std::uint32_t id, JobOutcome outcome);
    void rebuild_infos();

    LoopMailbox& mailbox_;
    std::function<void()> changed_;
    std::function<void(const JobInfo&, const JobOutcome&)> ended_;
    std::uint32_t next_id_ = 1;
    std::list<std::unique_ptr<Job>> running_;
    std::vector<JobInfo> finished_; // newest first, at most max_finished
    std::vector<JobInfo> infos_;
    // Tasks posted by job threads check it: the mailbox may run them after we are gone.
    std::shared_ptr<JobRunner*> self_ = std::make_shared<JobRunner*>(this);
};

} // namespace phyllome::guestview
