// A JobContext for tests of the job operations: records progress, cancels on request (at once,
// or once `cancel_after_bytes` were reported), and remembers the libvirt domain being watched.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "guestview/jobs/guest_job.hpp"

namespace phyllome::guestview::testing {

class RecordingJobContext final : public JobContext {
public:
    struct Step {
        std::uint64_t done, total;
        std::string phase;
    };
    void progress(std::uint64_t done, std::uint64_t total, std::string_view phase) override {
        std::lock_guard lock(mutex_);
        steps_.push_back({done, total, std::string(phase)});
        if (cancel_after_bytes_ > 0 && done >= cancel_after_bytes_)
            cancel_ = true;
    }
    bool cancelled() const override { return cancel_; }
    void watch_domain_job(virDomainPtr domain) override {
        watched_ = domain;
        if (domain != nullptr)
            ++watch_count_;
    }

    void cancel() { cancel_ = true; }
    void cancel_after_bytes(std::uint64_t bytes) { cancel_after_bytes_ = bytes; }
    std::vector<Step> steps() const {
        std::lock_guard lock(mutex_);
        return steps_;
    }
    virDomainPtr watched() const { return watched_; }
    int watch_count() const { return watch_count_; }

private:
    mutable std::mutex mutex_;
    std::vector<Step> steps_;
    std::atomic<bool> cancel_{false};
    std::atomic<std::uint64_t> cancel_after_bytes_{0};
    std::atomic<virDomainPtr> watched_{nullptr};
    std::atomic<int> watch_count_{0};
};

} // namespace phyllome::guestview::testing
