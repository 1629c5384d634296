// What spawning and watching a child takes, for the libvirt agent and the screen locker:
// posix_spawn's attributes and file actions destroyed on every path, pidfd_open, and waitid on a
// pidfd (glibc 2.36 names P_PIDFD only in <linux/wait.h>, which clashes with <sys/wait.h>).
#pragma once

#include <spawn.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

namespace phyllome::guestview {

inline constexpr idtype_t p_pidfd = static_cast<idtype_t>(3);

// A pidfd for `pid`, or -1 with errno set.
inline int open_pidfd(pid_t pid) { return static_cast<int>(syscall(SYS_pidfd_open, pid, 0)); }

struct SpawnSetup {
    posix_spawnattr_t attr;
    posix_spawn_file_actions_t actions;
    SpawnSetup() {
        posix_spawnattr_init(&attr);
        posix_spawn_file_actions_init(&actions);
    }
    ~SpawnSetup() {
        posix_spawn_file_actions_destroy(&actions);
        posix_spawnattr_destroy(&attr);
    }
    SpawnSetup(const SpawnSetup&) = delete;
    SpawnSetup& operator=(const SpawnSetup&) = delete;
};

} // namespace phyllome::guestview
