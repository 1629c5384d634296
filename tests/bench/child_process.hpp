// A helper program the bench runs beside the shell (drain listener, Xvfb, remote-viewer):
// spawned with its stdout on a pipe we can read line by line with a deadline, and ended with
// SIGTERM (then SIGKILL) when the object goes.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace phyllome::bench {

class ChildProcess {
public:
    // argv[0] is looked up in PATH; `env` entries (NAME=value) are added to ours. stderr goes
    // to `stderr_path` (or /dev/null when empty).
    ChildProcess(const std::vector<std::string>& argv, const std::vector<std::string>& env = {},
                 const std::string& stderr_path = {});
    ~ChildProcess();
    ChildProcess(const ChildProcess&) = delete;
    ChildProcess& operator=(const ChildProcess&) = delete;

    pid_t pid() const { return pid_; }
    bool running();
    // The next whole line of stdout, without its newline; nullopt at the deadline or at EOF.
    std::optional<std::string> read_line(std::chrono::milliseconds deadline);
    // Ends the process: SIGTERM, then SIGKILL after `grace`. Returns its wait status.
    int stop(std::chrono::milliseconds grace = std::chrono::seconds(3));

private:
    pid_t pid_ = -1;
    int out_ = -1;
    std::string buffer_;
    std::optional<int> status_;
};

} // namespace phyllome::bench
