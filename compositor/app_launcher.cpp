#include "compositor/app_launcher.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "compositor/scheduling.hpp"

namespace phyllome::compositor {

bool launch_detached(const std::string& command, std::string& error) {
    pid_t child = fork();
    if (child < 0) {
        error = std::strerror(errno);
        return false;
    }
    if (child == 0) {
        // Intermediate child: start a session and hand the grandchild to init.
        setsid();
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, nullptr);
        reset_child_scheduling(); // an application is no compositor
        pid_t grandchild = fork();
        if (grandchild == 0) {
            execl("/bin/sh", "/bin/sh", "-c", command.c_str(), static_cast<char*>(nullptr));
            _exit(127);
        }
        _exit(grandchild < 0 ? 1 : 0);
    }
    int status = 0;
    while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        error = "could not start a process";
        return false;
    }
    return true;
}

} // namespace phyllome::compositor
