// The job runner on its own: operations on their threads report progress to the loop (a few
// times a second, not per call), a cancel reaches the operation, and an end is reported once.
#include "guestview/jobs/job_runner.hpp"

#include <atomic>
#include <stdexcept>
#include <thread>

#include <gtest/gtest.h>

#include "guestview/loop_mailbox.hpp"
#include "tests/guestview/test_support.hpp"

namespace phyllome::guestview {
namespace {

using namespace std::chrono_literals;

class JobRunnerTest : public ::testing::Test {
protected:
    testing::LoopPtr loop = testing::make_loop();
    LoopMailbox mailbox{loop.get()};
    int changes = 0;
    std::vector<std::pair<JobInfo, JobOutcome>> ended;
    std::optional<JobRunner> runner{std::in_place, mailbox, [this] { ++changes; },
                                    [this](const JobInfo& i, const JobOutcome& o) { ended.emplace_back(i, o); }};
    const JobInfo* job(std::uint32_t id) {
        for (const JobInfo& j : runner->jobs())
            if (j.id == id)
                return &j;
        return nullptr;
    }
};

// Reports 1 MiB at a time until cancelled, as a copy does.
JobOutcome copy_until_cancelled(virConnectPtr, const JobRequest& r, JobContext& job) {
    for (std::uint64_t done = 0;; done += 1 << 20) {
        if (job.cancelled())
            return JobOutcome{false, true, "cancelled", r.target};
        job.progress(done, 1ull << 40, "copying disk vda");
        std::this_thread::sleep_for(1ms); // the operation's own pace, not a synchronisation
    }
}

TEST_F(JobRunnerTest, ProgressReachesTheLoopRateLimitedAndACancelEndsTheJob) {
    const auto id = runner->start({JobKind::Duplicate, "win11", "win11-copy", "", false}, nullptr, copy_until_cancelled);
    ASSERT_NE(job(id), nullptr);
    EXPECT_EQ(job(id)->state, JobState::Running);
    EXPECT_TRUE(runner->busy("win11"));
    EXPECT_TRUE(runner->busy("win11-copy")) << "the name the duplicate takes is busy too";
    EXPECT_FALSE(runner->busy("other"));
    ASSERT_TRUE(testing::pump_until(loop.get(), [&] { return job(id)->done >= (64u << 20); }, 20s));
    EXPECT_EQ(job(id)->phase, "copying disk vda");
    EXPECT_EQ(job(id)->total, 1ull << 40);
    // 64 calls or more reached at most a handful of updates: 5 a second.
    const int seen = changes;
    EXPECT_LT(seen, 64) << "progress is not forwarded call by call";
    runner->cancel(id);
    EXPECT_EQ(job(id)->state, JobState::Cancelling);
    ASSERT_TRUE(testing::pump_until(loop.get(), [&] { return !ended.empty(); }, 20s));
    EXPECT_EQ(job(id)->state, JobState::Cancelled);
    EXPECT_EQ(ended.front().first.id, id);
    EXPECT_TRUE(ended.front().second.cancelled);
    EXPECT_FALSE(runner->busy("win11"));
    runner->cancel(id); // a finished job: nothing happens
    EXPECT_EQ(job(id)->state, JobState::Cancelled);
}

TEST_F(JobRunnerTest, AFailureOrAnExceptionEndsFailedWithItsMessage) {
    const auto a = runner->start({JobKind::Backup, "a", "/b", "", false}, nullptr, [](virConnectPtr, const JobRequest&, JobContext&) {
        return JobOutcome{false, false, "not enough disk space in '/b'", {}};
    });
    const auto b = runner->start({JobKind::Backup, "b", "/b", "", false}, nullptr,
                                 [](virConnectPtr, const JobRequest&, JobContext&) -> JobOutcome {
                                     throw std::runtime_error("boom");
                                 });
    ASSERT_TRUE(testing::pump_until(loop.get(), [&] { return ended.size() == 2; }, 20s));
    EXPECT_EQ(job(a)->state, JobState::Failed);
    EXPECT_EQ(job(a)->message, "not enough disk space in '/b'");
    EXPECT_EQ(job(b)->state, JobState::Failed);
    EXPECT_EQ(job(b)->message, "cannot back up: boom");
    EXPECT_NE(a, b);
}

TEST_F(JobRunnerTest, DestroyingTheRunnerCancelsWhatRunsAndWaitsForIt) {
    std::atomic<bool> saw_cancel{false};
    runner->start({JobKind::Export, "a", "/x", "", false}, nullptr, [&](virConnectPtr c, const JobRequest& r, JobContext& j) {
        auto outcome = copy_until_cancelled(c, r, j);
        saw_cancel = true;
        return outcome;
    });
    runner.reset(); // joins the thread: saw_cancel is set by then
    EXPECT_TRUE(saw_cancel);
}

TEST(JobInfoTest, TimeLeftNeedsARateToGoBy) {
    JobInfo job;
    job.total = 100;
    job.done = 1;
    job.elapsed_ms = 5000;
    EXPECT_FALSE(seconds_left(job)) << "1 % in says little";
    job.done = 50;
    job.elapsed_ms = 500;
    EXPECT_FALSE(seconds_left(job)) << "under a second in";
    job.elapsed_ms = 10'000;
    EXPECT_EQ(seconds_left(job), 10u);
    job.state = JobState::Done;
    EXPECT_FALSE(seconds_left(job));
}

TEST(JobInfoTest, AnAgentsDeathFailsItsJobsAndTheNextAgentsListKeepsThemAsTheyEnded) {
    std::vector<JobInfo> known{{2, {JobKind::Backup, "a", "/b", "", false}},
                               {1, {JobKind::Duplicate, "b", "c", "", false}, JobState::Done}};
    EXPECT_TRUE(fail_unfinished_jobs(known, "stopped half-way: the libvirt agent stopped"));
    EXPECT_EQ(known[0].state, JobState::Failed);
    EXPECT_EQ(known[0].message, "stopped half-way: the libvirt agent stopped");
    EXPECT_EQ(known[1].state, JobState::Done) << "an ended job keeps how it ended";
    EXPECT_FALSE(fail_unfinished_jobs(known, "again"));
    // The new agent numbers from 1 again: its job 1 replaces the old one; old job 2 stays.
    auto merged = merge_job_lists({{1, {JobKind::Export, "a", "/x", "", false}}}, known);
    ASSERT_EQ(merged.size(), 2u);
    EXPECT_EQ(merged[0].request.kind, JobKind::Export);
    EXPECT_EQ(merged[1].id, 2u);
}

} // namespace
} // namespace phyllome::guestview
