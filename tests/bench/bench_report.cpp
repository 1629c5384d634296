#include "bench_report.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "bench_phase.hpp"

namespace phyllome::bench {
namespace {

std::string fmt_value(double v, int decimals = 2) { return std::isnan(v) ? "-" : fmt::format("{:.{}f}", v, decimals); }

struct Row {
    const char* label;
    const char* key;
    const char* unit;
    const char* target; // human text
    double limit;       // pass when value <= limit (>= with at_least); NAN: no target
    bool at_least = false;
};

} // namespace

void set_memory(Results& r, const std::string& what, const std::string& json) {
    const auto mb = [&](const char* key) { return json_number(json, key).value_or(NAN) / 1024.0; };
    r.set("rss_idle_mb_" + what, mb("rss_kb"));
    r.set("frame_buffers_mb_" + what, mb("frame_buffers_kb"));
    r.set("rss_beyond_frames_mb_" + what, mb("rss_kb") - mb("frame_buffers_kb"));
    r.set("rss_anon_mb_" + what, mb("rss_anon_kb"));
    r.set("rss_file_mb_" + what, mb("rss_file_kb"));
    r.set("rss_shmem_mb_" + what, mb("rss_shmem_kb"));
    r.set("rss_agent_mb_" + what, mb("agent_rss_kb"));
    r.set("rss_agent_anon_mb_" + what, mb("agent_rss_anon_kb"));
    r.set("rss_agent_file_mb_" + what, mb("agent_rss_file_kb"));
}

void print_table(const Results& r, bool quick) {
    const double frame60 = 1000.0 / 60.0;
    const double memcpy_ms = r.get("memcpy_1080p_ms");
    const std::vector<Row> rows = {
        {"update->present p50, 1080p copy path", "update_present_p50_ms", "ms", "<= 16.7 + memcpy", frame60 + memcpy_ms},
        {"update->present p99, 1080p copy path", "update_present_p99_ms", "ms", "<= 33.3", 2 * frame60},
        {"update->present p50, 1080p map path", "update_present_p50_ms_map_path", "ms", "<= 16.7", frame60},
        {"update->present p99, 1080p map path", "update_present_p99_ms_map_path", "ms", "<= 33.3", 2 * frame60},
        {"memcpy of one 1080p frame", "memcpy_1080p_ms", "ms", "floor", NAN},
        {"copies per frame, copy path", "copies_per_frame_copy_path", "", "<= 1", 1.0},
        {"copies per frame, map path", "copies_per_frame_map_path", "", "0", 0.0},
        {"shell CPU per frame, copy path", "cpu_ms_per_frame_copy_path", "ms", "", NAN},
        {"shell CPU per frame, map path", "cpu_ms_per_frame_map_path", "ms", "", NAN},
        {"shell page faults per frame, copy path", "shell_faults_per_frame_copy_path", "", "~0", 1.0},
        {"shell page faults per frame, map path", "shell_faults_per_frame_map_path", "", "~0", 1.0},
        {"update->present p50, 1080p 256x256 updates", "update_present_p50_ms_update256", "ms", "", NAN},
        {"shell CPU per frame, 256x256 updates", "cpu_ms_per_frame_update256", "ms", "", NAN},
        {"shell page faults per 256x256 update", "shell_faults_per_message_update256", "", "~0", 1.0},
        {"shell CPU per frame, 1280x800 QEMU 7.2 mix", "cpu_ms_per_frame_qemu72", "ms", "", NAN},
        {"shell page faults per frame, QEMU 7.2 mix", "shell_faults_per_frame_qemu72", "", "~0", 1.0},
        {"  in its first two seconds (heap growing)", "shell_faults_warmup_qemu72", "", "", NAN},
        {"switch p50 (phyllomectl next)", "switch_p50_ms", "ms", "", NAN},
        {"switch p99", "switch_p99_ms", "ms", "<= 16.7", frame60},
        {"switch p50, every core busy", "switch_p50_ms_loaded", "ms", "", NAN},
        {"switch p99, every core busy", "switch_p99_ms_loaded", "ms", "<= 16.7", frame60},
        {"update->present p99 while switching", "switch_update_present_p99_ms", "ms", "<= 33.3", 2 * frame60},
        {"  same, every core busy", "switch_update_present_p99_ms_loaded", "ms", "<= 33.3", 2 * frame60},
        {"switches measured", "switch_count", "", "", NAN},
        {"shell page faults while switching", "switch_shell_faults_per_s", "/s", "", NAN},
        {"  per frame received (both guests)", "switch_shell_faults_per_frame", "", "~0", 1.0},
        {"start -> overlay frame (median, fork -> commit)", "start_to_overlay_ms", "ms", "<= 50", 50},
        {"  same from the kernel's start time (10 ms steps)", "start_to_overlay_kernel_clock_ms", "ms", "", NAN},
        {"  shell's page faults by then", "start_to_overlay_shell_faults", "", "", NAN},
        {"  one page fault on this machine", "page_fault_cost_us", "us", "", NAN},
        {"  time in those faults (faults x cost)", "start_to_overlay_fault_ms", "ms", "", NAN},
        {"start -> running guest's frame (median)", "start_to_guest_frame_ms", "ms", "<= 200", 200},
        {"  same, polled upper bound", "start_to_guest_frame_upper_ms", "ms", "", NAN},
        {"  shell's first_frame_ms in those runs", "first_frame_ms_with_guest", "ms", "", NAN},
        {"  shell's page faults by then", "start_to_guest_frame_shell_faults", "", "", NAN},
        {"idle wakeups, nested (Wayland backend)", "idle_wakeups_per_s", "/s", "0", 0},
        {"  of which the main thread (event loop)", "idle_wakeups_per_s_main_thread", "/s", "", NAN},
        {"idle CPU, nested", "idle_cpu_ms_per_s", "ms/s", "", NAN},
        {"idle wakeups, headless", "idle_wakeups_per_s_headless", "/s", "", NAN},
        {"idle CPU, headless", "idle_cpu_ms_per_s_headless", "ms/s", "", NAN},
        {"RSS idle, 0 guests (overlay shown)", "rss_idle_mb_0_guests", "MB", "", NAN},
        {"  of which frame buffers (output, overlay)", "frame_buffers_mb_0_guests", "MB", "", NAN},
        {"  beyond frame buffers", "rss_beyond_frames_mb_0_guests", "MB", "<= 20", 20},
        {"  anonymous (heap, copied frames)", "rss_anon_mb_0_guests", "MB", "", NAN},
        {"  libraries and fonts (file-backed)", "rss_file_mb_0_guests", "MB", "", NAN},
        {"libvirt agent RSS, 0 guests (its own process)", "rss_agent_mb_0_guests", "MB", "", NAN},
        {"  anonymous (libvirt's heap)", "rss_agent_anon_mb_0_guests", "MB", "", NAN},
        {"  libraries (libvirt, TLS, ...)", "rss_agent_file_mb_0_guests", "MB", "", NAN},
        {"RSS idle, 1 guest 1080p", "rss_idle_mb_1_guest", "MB", "", NAN},
        {"  of which frame buffers (guest, output)", "frame_buffers_mb_1_guest", "MB", "", NAN},
        {"  beyond frame buffers", "rss_beyond_frames_mb_1_guest", "MB", "<= 20", 20},
        {"  anonymous (heap, copied frames)", "rss_anon_mb_1_guest", "MB", "", NAN},
        {"  libraries and fonts (file-backed)", "rss_file_mb_1_guest", "MB", "", NAN},
        {"libvirt agent RSS, 1 guest (its own process)", "rss_agent_mb_1_guest", "MB", "", NAN},
        {"  anonymous (libvirt's heap)", "rss_agent_anon_mb_1_guest", "MB", "", NAN},
        {"  libraries (libvirt, TLS, ...)", "rss_agent_file_mb_1_guest", "MB", "", NAN},
        {"RSS idle, 4 guests 1080p", "rss_idle_mb_4_guests", "MB", "", NAN},
        {"  of which frame buffers (guests, output)", "frame_buffers_mb_4_guests", "MB", "", NAN},
        {"  beyond frame buffers", "rss_beyond_frames_mb_4_guests", "MB", "<= 20", 20},
        {"  anonymous (heap, copied frames)", "rss_anon_mb_4_guests", "MB", "", NAN},
        {"  libraries and fonts (file-backed)", "rss_file_mb_4_guests", "MB", "", NAN},
        {"libvirt agent RSS, 4 guests (its own process)", "rss_agent_mb_4_guests", "MB", "", NAN},
        {"  anonymous (libvirt's heap)", "rss_agent_anon_mb_4_guests", "MB", "", NAN},
        {"  libraries (libvirt, TLS, ...)", "rss_agent_file_mb_4_guests", "MB", "", NAN},
    };
    // The real guest: one window per consumer, so each has its own QEMU CPU and guest rate.
    const std::vector<Row> stream_rows = {
        {"stream: QEMU update messages (drained)", "qemu_updates_per_s", "/s", "", NAN},
        {"  pixel data QEMU sent (drained)", "drain_mb_per_s", "MB/s", "", NAN},
        {"  update messages the shell received", "shell_updates_per_s", "/s", "", NAN},
        {"  drain CPU per update message", "drain_cpu_ms_per_update", "ms", "", NAN},
        {"  shell CPU per update message", "shell_cpu_ms_per_update", "ms", "", NAN},
        {"  shell memcpy (guestview), shell window", "shell_mb_copied_per_s", "MB/s", "", NAN},
        {"stream: drain listener CPU", "drain_cpu_ms_per_s", "ms/s", "floor", NAN},
        {"stream: phyllome-shell CPU", "shell_cpu_ms_per_s", "ms/s", "", NAN},
        {"stream: remote-viewer CPU (SPICE)", "remote_viewer_cpu_ms_per_s", "ms/s", "", NAN},
        {"stream: drain listener page faults", "drain_faults_per_s", "/s", "", NAN},
        {"  per update message", "drain_faults_per_update", "", "", NAN},
        {"stream: phyllome-shell page faults", "shell_faults_per_s", "/s", "", NAN},
        {"  per update message", "shell_faults_per_update", "", "", NAN},
        {"  per presented frame", "shell_faults_per_frame", "", "~0", 1.0},
        {"stream: remote-viewer page faults", "remote_viewer_faults_per_s", "/s", "", NAN},
        {"  Xvfb CPU beside remote-viewer", "xvfb_cpu_ms_per_s", "ms/s", "", NAN},
        {"stream: shell CPU / drain floor", "cpu_ratio_vs_drain_floor", "", "<= 1.5", 1.5},
        {"stream: shell CPU / remote-viewer", "cpu_ratio_vs_remote_viewer", "", "<= 1", 1.0},
        {"stream: shell frames presented (60 Hz)", "shell_fps_on_stream", "/s", ">= 55", 55, true},
        {"  of which direct scan-out (no paint)", "shell_scanout_commits_per_s", "/s", "", NAN},
        {"  60 Hz slots with new content, drain window", "drain_content_slots_per_s", "/s", "", NAN},
        {"  guest frames drawn, drain window", "drain_phase_guest_fps", "/s", "", NAN},
        {"  guest frames drawn, shell window", "shell_phase_guest_fps", "/s", "", NAN},
        {"  guest frames drawn, viewer window", "remote_viewer_phase_guest_fps", "/s", "", NAN},
        {"  QEMU CPU, drain window", "drain_phase_qemu_cpu_ms_per_s", "ms/s", "", NAN},
        {"  QEMU CPU, shell window", "shell_phase_qemu_cpu_ms_per_s", "ms/s", "", NAN},
        {"  QEMU CPU, viewer window", "remote_viewer_phase_qemu_cpu_ms_per_s", "ms/s", "", NAN},
    };
    fmt::print("phyllome-shell benchmark{} (headless backend, pixman renderer, fake QEMU displays;\n"
               "  stream rows: the animated test guest, QEMU 10 under TCG (map path), 1280x800)\n",
               quick ? " --quick" : "");
    fmt::print("{:<44} {:>10} {:<5} {:<18} {}\n", "measure", "value", "unit", "target", "");
    std::vector<Row> all = rows;
    if (r.stream_skipped.empty())
        all.insert(all.end(), stream_rows.begin(), stream_rows.end());
    for (const auto& row : all) {
        const double v = r.get(row.key);
        if (std::isnan(v) && !*row.target)
            continue;
        const bool pass = row.at_least ? v >= row.limit - 1e-9 : v <= row.limit + 1e-9;
        const char* verdict = std::isnan(row.limit) || std::isnan(v) ? "" : pass ? "ok" : "MISSED";
        fmt::print("{:<44} {:>10} {:<5} {:<18} {}\n", row.label,
                   fmt_value(v, std::string(row.key).ends_with("_count") ? 0
                                : row.unit[0] == '\0'                  ? 3
                                : std::string(row.unit) == "MB"         ? 1
                                                                        : 2),
                   row.unit,
                   row.target, verdict);
    }
    if (!r.stream_skipped.empty())
        fmt::print("{:<44} {:>10} {:<5} {:<18} {}\n", "real-guest stream ratios, shell fps", "-", "", "",
                   r.stream_skipped);
    for (const auto& n : r.notes)
        fmt::print("note: {}\n", n);
}

std::string to_json(const Results& r, bool quick) {
    std::string o = "{\n";
    o += fmt::format("  \"quick\": {},\n", quick ? "true" : "false");
    for (const auto& [k, v] : r.values)
        o += fmt::format("  \"{}\": {},\n", k, std::isnan(v) ? "null" : fmt::format("{:.4f}", v));
    // Issue 6 keys of the real-guest stream: null when it was skipped or failed.
    for (const char* k : {"cpu_ratio_vs_drain_floor", "cpu_ratio_vs_remote_viewer", "shell_fps_on_stream"})
        if (std::find_if(r.values.begin(), r.values.end(), [&](const auto& kv) { return kv.first == k; }) ==
            r.values.end())
            o += fmt::format("  \"{}\": null,\n", k);
    o += "  \"notes\": [";
    for (std::size_t i = 0; i < r.notes.size(); ++i) {
        std::string n;
        for (char c : r.notes[i])
            n += c == '"' || c == '\\' ? std::string("\\") + c : static_cast<unsigned char>(c) < 0x20 ? " " : std::string(1, c);
        o += fmt::format("{}\"{}\"", i ? ", " : "", n);
    }
    return o + "]\n}\n";
}

} // namespace phyllome::bench
