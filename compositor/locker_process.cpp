#include "compositor/locker_process.hpp"
#include "guestview/child_spawn.hpp"

#include <fcntl.h>
#include <sched.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <utility>

#include <fmt/format.h>

#include "config/log.hpp"

extern char** environ;

namespace phyllome::compositor {

LockerProcess::LockerProcess(wl_event_loop* loop, Ended ended)
    : loop_(loop), ended_(std::move(ended)) {}

LockerProcess::~LockerProcess() {
    // A locker outlives the shell only until the Wayland display goes; not ours to reap then.
    watch_.reset();
}

bool LockerProcess::start(const std::string& command, std::string& error) {
    if (running()) {
        error = fmt::format("the locker (pid {}) is still starting", pid_);
        return false;
    }
    guestview::SpawnSetup setup(POSIX_SPAWN_SETSID);
    // Only stdin, stdout and stderr: fds other threads opened without close-on-exec stay ours.
    posix_spawn_file_actions_addclosefrom_np(&setup.actions, 3);
    char* argv[] = {const_cast<char*>("/bin/sh"), const_cast<char*>("-c"), const_cast<char*>(command.c_str()),
                    nullptr};
    pid_t pid = -1;
    if (const int err = posix_spawn(&pid, "/bin/sh", &setup.actions, &setup.attr, argv, environ)) {
        error = fmt::format("cannot start /bin/sh: {}", std::strerror(err));
        return false;
    }
    guestview::OwnedFd pidfd{guestview::open_pidfd(pid)};
    if (pidfd.get() < 0) {
        error = fmt::format("pidfd_open: {}", std::strerror(errno));
        kill(pid, SIGKILL);
        waitpid(pid, nullptr, 0);
        return false;
    }
    pid_ = pid;
    pidfd_ = std::move(pidfd);
    watch_.reset(wl_event_loop_add_fd(
        loop_, pidfd_.get(), WL_EVENT_READABLE,
        [](int, std::uint32_t, void* data) {
            static_cast<LockerProcess*>(data)->reap();
            return 0;
        },
        this));
    return true;
}

void LockerProcess::reap() {
    siginfo_t info{};
    int r = -1;
    do {
        r = waitid(guestview::p_pidfd, static_cast<id_t>(pidfd_.get()), &info, WEXITED | WNOHANG);
    } while (r < 0 && errno == EINTR);
    if (r == 0 && info.si_pid == 0)
        return; // still running
    const pid_t pid = pid_;
    const bool had_locked = std::exchange(locked_, false);
    watch_.reset();
    pidfd_.reset();
    pid_ = -1;
    if (r < 0)
        ended_(-1, fmt::format("(pid {}): cannot tell how it ended: {}", pid, std::strerror(errno)), had_locked);
    else if (info.si_code == CLD_EXITED)
        ended_(info.si_status, fmt::format("exited with status {}", info.si_status), had_locked);
    else
        ended_(-1, fmt::format("was killed by signal {}", info.si_status), had_locked);
}

} // namespace phyllome::compositor
