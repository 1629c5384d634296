#include "guestview/jobs/job_runner.hpp"

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "config/log.hpp"
#include "guestview/loop_mailbox.hpp"

namespace phyllome::guestview {
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::size_t max_finished = 16;
constexpr auto update_interval = std::chrono::milliseconds(200);
constexpr auto poll_interval = std::chrono::milliseconds(250);

} // namespace

// What the job's threads and the loop share; everything under `mutex`.
struct JobShared final : JobContext {
    mutable std::mutex mutex;
    std::condition_variable_any wake;
    std::uint64_t done = 0, total = 0;
    std::string phase;
    bool cancel_requested = false;
    bool update_posted = false; // a sync task is queued: no second one
    Clock::time_point last_post{};
    DomainPtr watched;          // a reference of our own while the operation watches it
    std::function<void()> post_sync; // posts a sync task to the loop

    void progress(std::uint64_t d, std::uint64_t t, std::string_view p) override {
        std::lock_guard lock(mutex);
        done = d;
        total = t;
        if (p != phase)
            phase = std::string(p);
        maybe_post();
    }
    bool cancelled() const override {
        std::lock_guard lock(mutex);
        return cancel_requested;
    }
    void watch_domain_job(virDomainPtr domain) override {
        std::lock_guard lock(mutex);
        watched.reset(domain != nullptr && virDomainRef(domain) == 0 ? domain : nullptr);
        wake.notify_all();
    }
    // Under `mutex`.
    void maybe_post() {
        const auto now = Clock::now();
        if (update_posted || now - last_post < update_interval)
            return;
        update_posted = true;
        last_post = now;
        post_sync();
    }
};

struct JobRunner::Job {
    JobInfo info;
    Clock::time_point started = Clock::now();
    std::shared_ptr<JobShared> shared = std::make_shared<JobShared>();
    ConnectionPtr connection;
    std::jthread poller;    // libvirt's job progress and aborts, while a domain is watched
    std::jthread operation; // last: joined first on destruction
};

JobRunner::JobRunner(LoopMailbox& mailbox, std::function<void()> changed,
                     std::function<void(const JobInfo&, const JobOutcome&)> ended)
    : mailbox_(mailbox), changed_(std::move(changed)), ended_(std::move(ended)) {}

JobRunner::~JobRunner() {
    for (auto& job : running_) {
        std::lock_guard lock(job->shared->mutex);
        job->shared->cancel_requested = true;
        job->shared->wake.notify_all();
    }
    for (auto& job : running_) {
        if (job->operation.joinable())
            job->operation.join(); // the poller aborts a watched libvirt job meanwhile
        job->poller.request_stop();
        job->shared->wake.notify_all();
    }
    running_.clear();
}

std::uint32_t JobRunner::start(JobRequest request, ConnectionPtr connection, Operation operation) {
    auto job = std::make_unique<Job>();
    const std::uint32_t id = next_id_++;
    job->info.id = id;
    job->info.request = std::move(request);
    job->info.phase = "starting";
    job->connection = std::move(connection);
    std::weak_ptr<JobRunner*> weak = self_;
    job->shared->post_sync = [this, weak, id] {
        mailbox_.post([weak, id] {
            if (auto self = weak.lock())
                (*self)->sync(id);
        });
    };
    std::shared_ptr<JobShared> shared = job->shared;
    virConnectPtr conn = job->connection.get();
    // Polls libvirt's view of its own job (backup, migration, snapshot with memory) and aborts it
    // on cancel: the operation itself is blocked inside libvirt then.
    job->poller = std::jthread([shared](std::stop_token stop) {
        bool aborted = false;
        std::unique_lock lock(shared->mutex);
        while (!stop.stop_requested()) {
            shared->wake.wait_for(lock, stop, poll_interval,
                                  [&] { return shared->cancel_requested && shared->watched && !aborted; });
            if (stop.stop_requested() || !shared->watched)
                continue;
            virDomainPtr domain = shared->watched.get();
            virDomainRef(domain);
            DomainPtr mine{domain};
            const bool abort = shared->cancel_requested && !aborted;
            lock.unlock();
            if (abort) {
                aborted = true;
                if (virDomainAbortJob(mine.get()) < 0)
                    log::warn("cannot abort libvirt's job: {}", last_libvirt_error());
            }
            virDomainJobInfo info{};
            const bool have = virDomainGetJobInfo(mine.get(), &info) == 0 && info.type != VIR_DOMAIN_JOB_NONE;
            if (!have)
                virResetLastError();
            mine.reset();
            lock.lock();
            if (have && info.dataTotal > 0) {
                shared->done = info.dataProcessed;
                shared->total = info.dataTotal;
                shared->maybe_post();
            }
        }
    });
    job->operation = std::jthread([this, weak, shared, conn, id, operation = std::move(operation),
                                   request = job->info.request](std::stop_token) {
        JobOutcome outcome;
        try {
            outcome = operation(conn, request, *shared);
        } catch (const std::exception& e) {
            outcome = JobOutcome{false, false, fmt::format("cannot {}: {}", to_string(request.kind), e.what()), {}};
        }
        shared->watch_domain_job(nullptr);
        mailbox_.post([weak, id, outcome = std::move(outcome)]() mutable {
            if (auto self = weak.lock())
                (*self)->finish(id, std::move(outcome));
        });
    });
    log::info("job {}: {} '{}' started", id, to_string(job->info.request.kind),
              job->info.request.guest.empty() ? job->info.request.source : job->info.request.guest);
    running_.push_back(std::move(job));
    rebuild_infos();
    // Announced from the loop: callbacks never run inside a request.
    mailbox_.post([weak] {
        if (auto self = weak.lock(); self && (*self)->changed_)
            (*self)->changed_();
    });
    return id;
}

void JobRunner::cancel(std::uint32_t id) {
    for (auto& job : running_) {
        if (job->info.id != id || job->info.state != JobState::Running)
            continue;
        {
            std::lock_guard lock(job->shared->mutex);
            job->shared->cancel_requested = true;
            job->shared->wake.notify_all();
        }
        job->info.state = JobState::Cancelling;
        log::info("job {}: cancel requested", id);
        rebuild_infos();
        if (changed_)
            changed_();
    }
}

bool JobRunner::busy(std::string_view guest) const {
    return std::ranges::any_of(running_, [&](const auto& job) {
        const JobRequest& r = job->info.request;
        const bool makes_target = r.kind == JobKind::Duplicate || r.kind == JobKind::Restore || r.kind == JobKind::Import;
        return r.guest == guest || (makes_target && r.target == guest);
    });
}

void JobRunner::sync(std::uint32_t id) {
    auto it = std::ranges::find_if(running_, [&](const auto& job) { return job->info.id == id; });
    if (it == running_.end())
        return;
    Job& job = **it;
    {
        std::lock_guard lock(job.shared->mutex);
        job.shared->update_posted = false;
        job.info.done = job.shared->done;
        job.info.total = job.shared->total;
        job.info.phase = job.shared->phase;
    }
    job.info.elapsed_ms = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - job.started).count());
    rebuild_infos();
    if (changed_)
        changed_();
}

void JobRunner::finish(std::uint32_t id, JobOutcome outcome) {
    auto it = std::ranges::find_if(running_, [&](const auto& job) { return job->info.id == id; });
    if (it == running_.end())
        return;
    std::unique_ptr<Job> job = std::move(*it);
    running_.erase(it);
    job->operation.join(); // it has posted this and is returning
    job->poller.request_stop();
    job->shared->wake.notify_all();
    job->poller.join();
    job->connection.reset();
    JobInfo info = job->info;
    {
        std::lock_guard lock(job->shared->mutex);
        info.done = job->shared->done;
        info.total = job->shared->total;
    }
    info.state = outcome.ok ? JobState::Done : outcome.cancelled ? JobState::Cancelled : JobState::Failed;
    info.phase.clear();
    info.message = outcome.message;
    info.elapsed_ms = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - job->started).count());
    if (outcome.ok)
        log::info("job {}: {} '{}' done in {:.1f} s{}", id, to_string(info.request.kind), info.request.guest,
                  static_cast<double>(info.elapsed_ms) / 1000, outcome.message.empty() ? "" : ": " + outcome.message);
    else
        log::warn("job {}: {} '{}' {}: {}", id, to_string(info.request.kind), info.request.guest,
                  outcome.cancelled ? "cancelled" : "failed", outcome.message);
    finished_.insert(finished_.begin(), info);
    if (finished_.size() > max_finished)
        finished_.pop_back();
    rebuild_infos();
    if (ended_)
        ended_(info, outcome);
    if (changed_)
        changed_();
}

void JobRunner::rebuild_infos() {
    infos_.clear();
    for (auto it = running_.rbegin(); it != running_.rend(); ++it)
        infos_.push_back((*it)->info);
    infos_.insert(infos_.end(), finished_.begin(), finished_.end());
}

} // namespace phyllome::guestview
