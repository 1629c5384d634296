// The suite's results (shell_bench): every measured value by flat JSON key, the notes, and
// how they are printed as one table and written as JSON.
#pragma once

#include <cmath>
#include <string>
#include <utility>
#include <vector>

namespace phyllome::bench {

// Every measured value, by JSON key, in the order it was measured; NAN: not measured.
struct Results {
    std::vector<std::pair<std::string, double>> values;
    std::vector<std::string> notes;
    std::string stream_skipped; // why the real-guest stream rows are empty
    void set(const std::string& key, double v) {
        for (auto& [k, old] : values)
            if (k == key) {
                old = v;
                return;
            }
        values.emplace_back(key, v);
    }
    double get(const std::string& key) const {
        for (const auto& [k, v] : values)
            if (k == key)
                return v;
        return NAN;
    }
};

// RSS and its parts from the shell's status: rss_idle_mb_<what>, and rss_anon_mb_<what> (the
// shell's own heap and copied frames), rss_file_mb_<what> (libraries' code, fonts),
// rss_shmem_mb_<what> (output buffers, mapped frames); frame_buffers_mb_<what>, the pixel
// buffers the shell counts itself (guest frames, output pictures), and rss_beyond_frames_mb_<what>,
// what the target (20 MB plus frame buffers) is about; rss_agent_mb_<what> and its parts: the
// libvirt agent, the shell's child process that holds libvirt.
void set_memory(Results& r, const std::string& what, const std::string& status_json);

void print_table(const Results& r, bool quick);
std::string to_json(const Results& r, bool quick);

} // namespace phyllome::bench
