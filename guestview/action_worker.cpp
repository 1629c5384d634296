#include "guestview/action_worker.hpp"

#include "config/log.hpp"
#include "guestview/domain_model.hpp"
#include "guestview/guest_removal.hpp"
#include "guestview/installer_eject.hpp"

namespace phyllome::guestview {

ActionWorker::ActionWorker(std::function<void(ActionResult)> deliver)
    : deliver_(std::move(deliver)), thread_([this](std::stop_token stop) { run(stop); }) {}

ActionWorker::~ActionWorker() { stop(); }

void ActionWorker::stop() {
    thread_.request_stop();
    if (thread_.joinable())
        thread_.join();
    std::lock_guard lock{mutex_};
    jobs_.clear(); // releases their connection references
}

void ActionWorker::submit(Action action, std::string guest, ConnectionPtr connection) {
    {
        std::lock_guard lock{mutex_};
        if (thread_.get_stop_token().stop_requested())
            return;
        jobs_.push_back({action, std::move(guest), std::move(connection)});
    }
    wake_.notify_one();
}

void ActionWorker::submit_call(std::function<void()> call) {
    {
        std::lock_guard lock{mutex_};
        if (thread_.get_stop_token().stop_requested())
            return;
        Job job;
        job.call = std::move(call);
        jobs_.push_back(std::move(job));
    }
    wake_.notify_one();
}

void ActionWorker::run(std::stop_token stop) {
    while (true) {
        Job job;
        {
            std::unique_lock lock{mutex_};
            if (!wake_.wait(lock, stop, [this] { return !jobs_.empty(); }))
                return; // stop requested
            job = std::move(jobs_.front());
            jobs_.pop_front();
        }
        if (job.call) {
            job.call();
            continue;
        }
        ActionResult result = perform(job);
        job.connection.reset(); // drop our reference before the loop hears about the result
        if (!stop.stop_requested())
            deliver_(std::move(result));
    }
}

ActionResult ActionWorker::perform(Job& job) {
    ActionResult result{job.action, job.guest, false, {}};
    if (job.action == Action::Remove) {
        // The shell's disks are where it puts them for this URI (the agent shares the shell's
        // environment, so it finds the same folder).
        LibvirtString uri{virConnectGetURI(job.connection.get())};
        result.error = remove_guest_and_disks(job.connection.get(), job.guest, default_disk_dir(uri ? uri.get() : ""));
        result.ok = result.error.empty();
        log::debug("guest '{}': remove {}", job.guest, result.ok ? "done" : "failed: " + result.error);
        return result;
    }
    DomainPtr domain{virDomainLookupByName(job.connection.get(), job.guest.c_str())};
    if (!domain) {
        result.error = last_libvirt_error();
        return result;
    }
    int rc = -1;
    switch (job.action) {
    case Action::Start: {
        // "Start" on a paused or suspended guest means carry on, not boot a second time.
        int state = VIR_DOMAIN_NOSTATE, reason = 0;
        const bool paused = virDomainGetState(domain.get(), &state, &reason, 0) == 0 &&
                            (state == VIR_DOMAIN_PAUSED || state == VIR_DOMAIN_PMSUSPENDED);
        rc = !paused ? virDomainCreate(domain.get())
             : state == VIR_DOMAIN_PAUSED ? virDomainResume(domain.get())
                                          : virDomainPMWakeup(domain.get(), 0);
        break;
    }
    case Action::Shutdown: rc = virDomainShutdown(domain.get()); break;
    case Action::ForceOff: rc = virDomainDestroy(domain.get()); break;
    case Action::Remove: break; // above
    case Action::Eject: {
        EjectOutcome outcome = eject_installer(domain.get(), job.guest);
        result.ok = outcome.ok;
        (result.ok ? result.note : result.error) = std::move(outcome.message);
        log::info("guest '{}': {}: {}", job.guest, to_string(job.action),
                  result.ok ? result.note : "failed: " + result.error);
        return result;
    }
    }
    result.ok = rc == 0;
    if (!result.ok)
        result.error = last_libvirt_error();
    log::debug("guest '{}': {} {}", job.guest, to_string(job.action), result.ok ? "done" : "failed: " + result.error);
    return result;
}

} // namespace phyllome::guestview
