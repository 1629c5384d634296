// What spawning and watching a child takes, for the libvirt agent and the screen locker:
// posix_spawn's attributes and file actions destroyed on every path, pidfd_open, and waitid on a
// pidfd (glibc 2.36 names P_PIDFD only in <linux/wait.h>, which clashes with <sys/wait.h>).
#pragma once

#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

namespace phyllome::guestview {

inline constexpr idtype_t p_pidfd = static_cast<idtype_t>(3);

// A pidfd for `pid`, or -1 with errno set.
inline int open_pidfd(pid_t pid) { return static_cast<int>(syscall(SYS_pidfd_open, pid, 0)); }

// `extra_flags`: more POSIX_SPAWN_* flags (POSIX_SPAWN_SETSID).
struct SpawnSetup {
    posix_spawnattr_t attr;
    posix_spawn_file_actions_t actions;
    explicit SpawnSetup(short extra_flags = 0) {
        posix_spawnattr_init(&attr);
        posix_spawn_file_actions_init(&actions);
        // Our signal mask (the event loop blocks the signals it handles) and ignored signals are
        // not the child's business, nor is the shell's CPU priority (realtime survives a fork).
        sigset_t none, defaults;
        sigemptyset(&none);
        sigemptyset(&defaults);
        for (int s : {SIGPIPE, SIGTERM, SIGINT, SIGCHLD, SIGHUP, SIGUSR1, SIGUSR2, SIGALRM})
            sigaddset(&defaults, s);
        posix_spawnattr_setsigmask(&attr, &none);
        posix_spawnattr_setsigdefault(&attr, &defaults);
        sched_param default_priority{};
        posix_spawnattr_setschedpolicy(&attr, SCHED_OTHER);
        posix_spawnattr_setschedparam(&attr, &default_priority);
        posix_spawnattr_setflags(&attr, static_cast<short>(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
                                                           POSIX_SPAWN_SETSCHEDULER | extra_flags));
    }
    ~SpawnSetup() {
        posix_spawn_file_actions_destroy(&actions);
        posix_spawnattr_destroy(&attr);
    }
    SpawnSetup(const SpawnSetup&) = delete;
    SpawnSetup& operator=(const SpawnSetup&) = delete;
};

} // namespace phyllome::guestview
