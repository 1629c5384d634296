#include "cpu_hogs.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

namespace phyllome::bench {

CpuHogs::CpuHogs(int count) {
    for (int i = 0; i < count; ++i) {
        const pid_t pid = fork();
        if (pid == 0) {
            volatile unsigned long spin = 0;
            for (;;)
                spin = spin + 1;
        }
        if (pid > 0)
            pids_.push_back(pid);
    }
}

CpuHogs::~CpuHogs() {
    for (pid_t pid : pids_)
        kill(pid, SIGKILL);
    for (pid_t pid : pids_)
        while (waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
        }
}

} // namespace phyllome::bench
