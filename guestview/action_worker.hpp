// The one thread that runs libvirt calls which may block (start, shut down, force off), so the
// compositor's loop never waits on a guest or on libvirtd.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "guestview/inventory.hpp"
#include "guestview/libvirt_handles.hpp"

namespace phyllome::guestview {

class ActionWorker {
public:
    // `deliver` is called on the worker thread with each result; it must hand it to the loop.
    explicit ActionWorker(std::function<void(ActionResult)> deliver);
    // Finishes the call in progress (libvirt calls cannot be interrupted), drops queued ones.
    ~ActionWorker();
    ActionWorker(const ActionWorker&) = delete;
    ActionWorker& operator=(const ActionWorker&) = delete;

    // Waits for the call in progress and ends the thread; later submits are ignored. Idempotent.
    void stop();

    // `connection` is the worker's own reference, so a reconnect cannot pull it away mid-call.
    void submit(Action action, std::string guest, ConnectionPtr connection);

    // Runs `call` on the worker thread, in order with the actions, for other blocking libvirt
    // calls (e.g. virDomainOpenGraphicsFD). `call` reports its own result; it is dropped
    // without running when the worker stops first.
    void submit_call(std::function<void()> call);

private:
    struct Job {
        Action action;
        std::string guest;
        ConnectionPtr connection;
        std::function<void()> call; // set: run it instead of `action`
    };
    void run(std::stop_token stop);
    static ActionResult perform(Job& job);

    std::function<void(ActionResult)> deliver_;
    std::mutex mutex_;
    std::condition_variable_any wake_;
    std::deque<Job> jobs_;
    std::jthread thread_; // last: starts after, and is joined before, the members it uses
};

} // namespace phyllome::guestview
