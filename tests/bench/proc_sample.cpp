#include "proc_sample.hpp"

#include <dirent.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <vector>
#include <fstream>
#include <iterator>
#include <sstream>

namespace phyllome::bench {
namespace {

struct Faults {
    std::uint64_t minor = 0, major = 0;
};

// Fields 10 (minflt) and 12 (majflt) of /proc/PID/stat. The command name (field 2) may hold
// spaces and parentheses, so fields are counted from after its last ')'.
Faults read_faults(int pid) {
    std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!std::getline(f, line))
        return {};
    const auto close = line.rfind(')');
    if (close == std::string::npos)
        return {};
    std::istringstream rest(line.substr(close + 1));
    Faults out;
    std::string field;
    for (int i = 3; i <= 12 && rest >> field; ++i) {
        if (i == 10)
            out.minor = std::strtoull(field.c_str(), nullptr, 10);
        else if (i == 12)
            out.major = std::strtoull(field.c_str(), nullptr, 10);
    }
    return out;
}

} // namespace

int find_pid_by_arg(const std::string& arg) {
    DIR* d = opendir("/proc");
    if (!d)
        return -1;
    int found = -1;
    while (dirent* e = readdir(d)) {
        const int pid = std::atoi(e->d_name);
        if (pid <= 0 || pid == getpid())
            continue;
        std::ifstream f(std::string("/proc/") + e->d_name + "/cmdline");
        std::string cmdline((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
        std::size_t start = 0;
        for (std::size_t i = 0; i <= cmdline.size(); ++i) {
            if (i == cmdline.size() || cmdline[i] == '\0') {
                if (cmdline.compare(start, i - start, arg) == 0 && start < i) {
                    found = pid;
                    break;
                }
                start = i + 1;
            }
        }
        // Only the shell itself: phyllomectl children do not carry --config.
        if (found > 0 && cmdline.find("phyllome-shell") != std::string::npos)
            break;
        found = -1;
    }
    closedir(d);
    return found;
}

std::uint64_t minor_faults(int pid) { return read_faults(pid).minor; }

ProcSample sample_process(int pid) {
    ProcSample s;
    const std::string base = "/proc/" + std::to_string(pid);
    DIR* d = opendir((base + "/task").c_str());
    if (!d)
        return s;
    while (dirent* e = readdir(d)) {
        if (e->d_name[0] == '.')
            continue;
        const std::string task = base + "/task/" + e->d_name;
        ++s.threads;
        std::ifstream status(task + "/status");
        std::string line;
        while (std::getline(status, line)) {
            std::istringstream in(line);
            std::string key;
            std::uint64_t v = 0;
            in >> key >> v;
            if (key == "voluntary_ctxt_switches:") {
                s.voluntary += v;
                if (std::to_string(pid) == e->d_name)
                    s.main_voluntary = v;
            }
            else if (key == "nonvoluntary_ctxt_switches:")
                s.involuntary += v;
        }
        std::ifstream sched(task + "/schedstat");
        std::uint64_t run_ns = 0;
        if (sched >> run_ns)
            s.cpu_ms += static_cast<double>(run_ns) / 1e6;
    }
    closedir(d);
    std::ifstream statm(base + "/statm");
    long size = 0, resident = 0;
    if (statm >> size >> resident)
        s.rss_kb = resident * (sysconf(_SC_PAGESIZE) / 1024);
    const Faults faults = read_faults(pid);
    s.minor_faults = faults.minor;
    s.major_faults = faults.major;
    return s;
}

double page_fault_cost_us() {
    const std::size_t page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
    const std::size_t pages = 8192; // 32 MiB: well above what any cache hides
    std::vector<double> runs;
    for (int run = 0; run < 5; ++run) {
        void* at = mmap(nullptr, pages * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (at == MAP_FAILED)
            return -1;
        // No transparent huge pages: one fault per 4 KiB page, as the shell's heap takes them.
        madvise(at, pages * page, MADV_NOHUGEPAGE);
        auto* bytes = static_cast<volatile unsigned char*>(at);
        const auto t0 = std::chrono::steady_clock::now();
        for (std::size_t i = 0; i < pages; ++i)
            bytes[i * page] = 1;
        const auto t1 = std::chrono::steady_clock::now();
        munmap(at, pages * page);
        runs.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count() / static_cast<double>(pages));
    }
    std::nth_element(runs.begin(), runs.begin() + 2, runs.end());
    return runs[2];
}

} // namespace phyllome::bench
