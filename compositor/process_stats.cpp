#include "compositor/process_stats.hpp"

#include <malloc.h>
#include <time.h>
#include <unistd.h>

#include <fstream>
#include <limits>
#include <sstream>
#include <string>

namespace phyllome::compositor {

std::optional<double> process_age_ms() {
    std::ifstream f("/proc/self/stat");
    std::string line;
    if (!std::getline(f, line))
        return std::nullopt;
    // The command name may hold spaces and parentheses: fields start after the last ')'.
    auto close = line.rfind(')');
    if (close == std::string::npos)
        return std::nullopt;
    std::istringstream rest(line.substr(close + 2));
    std::string field;
    unsigned long long start_ticks = 0;
    for (int i = 3; i <= 22 && rest >> field; ++i)
        if (i == 22)
            start_ticks = std::stoull(field);
    timespec now{};
    clock_gettime(CLOCK_BOOTTIME, &now);
    const double now_ms = now.tv_sec * 1000.0 + now.tv_nsec / 1e6;
    return now_ms - start_ticks * 1000.0 / static_cast<double>(sysconf(_SC_CLK_TCK));
}

double process_cpu_ms() {
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

void configure_heap() {
    // The only other threads are start-up's warm-up helpers, whose own arenas would each keep
    // their leftovers resident for the whole session (about 0.4 MB).
    mallopt(M_ARENA_MAX, 1);
    // Blocks up to 32 MiB (glibc's largest mmap threshold; a 4K frame is 33,177,600 bytes, just
    // under it) come from the heap, where a freed one is reused instead of unmapped. Setting
    // either value turns glibc's dynamic thresholds off.
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    // free() hands the top of the heap back only beyond 64 MiB (what the dynamic threshold
    // reaches after a 32 MiB block): room for a few frames of several streaming guests.
    // release_free_memory() gives all of it back at quiet moments, so idle RSS is unchanged.
    mallopt(M_TRIM_THRESHOLD, 64 << 20);
}

void release_free_memory() { malloc_trim(0); }

double thread_cpu_ms() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

namespace {

ResidentParts read_resident_parts(const std::string& status_path) {
    ResidentParts parts;
    std::ifstream f(status_path);
    std::string key;
    long value = 0;
    while (f >> key) {
        if (key == "VmRSS:" && f >> value)
            parts.total_kb = value;
        else if (key == "RssAnon:" && f >> value)
            parts.anon_kb = value;
        else if (key == "RssFile:" && f >> value)
            parts.file_kb = value;
        else if (key == "RssShmem:" && f >> value)
            parts.shmem_kb = value;
        f.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
    }
    return parts;
}

} // namespace

ResidentParts resident_parts() { return read_resident_parts("/proc/self/status"); }

ResidentParts resident_parts(int pid) { return read_resident_parts("/proc/" + std::to_string(pid) + "/status"); }

long resident_kb() {
    std::ifstream f("/proc/self/statm");
    long size = 0, resident = 0;
    if (!(f >> size >> resident))
        return 0;
    return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

} // namespace phyllome::compositor
