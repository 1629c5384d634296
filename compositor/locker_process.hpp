// The configured locker (`[lock] command`, e.g. swaylock) run with /bin/sh -c as our own child
// (its own session, default signals and CPU priority, no inherited fds), watched through a
// pidfd on the event loop, so the shell learns how it ended without SIGCHLD or waitpid(-1).
#pragma once

#include <functional>
#include <optional>
#include <string>

#include <sys/types.h>

#include "compositor/wlr.hpp"
#include "guestview/event_source.hpp"
#include "guestview/owned_fd.hpp"

namespace phyllome::compositor {

class LockerProcess {
public:
    // `ended` gets the exit status (-1 when a signal killed it), how it ended in words ("exited
    // with status 1", "killed by signal 9") and whether it had locked the session meanwhile.
    using Ended = std::function<void(int status, std::string how, bool had_locked)>;
    LockerProcess(wl_event_loop* loop, Ended ended);
    ~LockerProcess();
    LockerProcess(const LockerProcess&) = delete;
    LockerProcess& operator=(const LockerProcess&) = delete;

    // False with `error` when it cannot start (or one still runs).
    bool start(const std::string& command, std::string& error);
    bool running() const { return pid_ > 0; }
    pid_t pid() const { return pid_; }
    // The session lock was confirmed while it runs: /bin/sh may outlive the locker it forked, so
    // its exit status after this says nothing about locking.
    void note_locked() { locked_ = running(); }

private:
    void reap();

    wl_event_loop* loop_;
    Ended ended_;
    pid_t pid_ = -1;
    bool locked_ = false;
    guestview::OwnedFd pidfd_;
    guestview::EventSourcePtr watch_;
};

} // namespace phyllome::compositor
