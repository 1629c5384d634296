// Busy processes, one per core, at the default priority, for as long as the object lives: a host
// whose every core is taken (TCG guests booting, a build), for measuring under load.
#pragma once

#include <sys/types.h>

#include <vector>

namespace phyllome::bench {

class CpuHogs {
public:
    explicit CpuHogs(int count);
    ~CpuHogs(); // kills and reaps them
    CpuHogs(const CpuHogs&) = delete;
    CpuHogs& operator=(const CpuHogs&) = delete;

private:
    std::vector<pid_t> pids_;
};

} // namespace phyllome::bench
