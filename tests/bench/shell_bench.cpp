// The shell's benchmark suite (issue 6): frame path (copy and map), switching, start-up, idle
// cost and memory, each measured on the real shell (headless backend, pixman renderer) fed by
// fake QEMU displays; then the side-by-side on a real guest stream (stream_bench.hpp), which
// --quick leaves out. Prints one table and optionally writes the numbers as flat JSON.
//
//   shell_bench [--quick] [--json FILE] [--only frame|switch|start|idle|stream]... [--stream-seconds S]
//               [--stream-guest-fps N]
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "bench_phase.hpp"
#include "bench_util.hpp"
#include "cpu_hogs.hpp"
#include "switch_bench.hpp"
#include "bench_report.hpp"
#include "fake_display_session.hpp"
#include "peer_host.hpp"
#include "proc_sample.hpp"
#include "shell_process.hpp"
#include "stream_bench.hpp"

namespace {

using namespace std::chrono_literals;
using phyllome::bench::json_number;
using phyllome::bench::PeerHost;
using phyllome::bench::PhaseResult;
using phyllome::bench::PhaseSpec;
using phyllome::bench::Results;
using phyllome::bench::set_memory;
using phyllome::bench::StopPeersFirst;
using phyllome::bench::Stream;
using phyllome::test::GuestStats;
using phyllome::test::ShellProcess;
using Clock = std::chrono::steady_clock;
using phyllome::bench::ms_between;
using phyllome::bench::output_config;
using phyllome::bench::percentile;
using phyllome::bench::shown_guest;


// ---------------------------------------------------------------------------------------------
// Frame path: 1080p full frames on the inline-copy path (Scanout) and on the map path.

void frame_path(Results& r, bool quick) {
    const double seconds = quick ? 3 : 10;
    struct Run {
        Stream stream;
        int width, height, rate;
        const char* name;   // for the progress line and notes
        const char* suffix; // of the JSON keys
    };
    std::vector<Run> runs = {{Stream::Scanout, 1920, 1080, 60, "copy", "copy_path"},
                             {Stream::Map, 1920, 1080, 60, "map", "map_path"},
                             // QEMU 7.2's pattern in the real stream: Scanouts and Updates.
                             {Stream::Mixed, 1280, 800, 50, "qemu72", "qemu72"}};
    if (!quick)
        runs.insert(runs.begin() + 1, Run{Stream::Update, 1920, 1080, 60, "update256", "update256"});
    for (const Run& run : runs) {
        const Stream s = run.stream;
        const std::string name = run.name, suffix = run.suffix;
        fmt::print(stderr, "frame path: {}x{} {} at {}/s for {} s...\n", run.width, run.height, name, run.rate, seconds);
        const PhaseResult p = phyllome::bench::run_phase(PhaseSpec{run.width, run.height, s, run.rate, seconds});
        if (!p.error.empty()) {
            r.notes.push_back(fmt::format("frame path {}: {}", name, p.error.substr(0, 300)));
            continue;
        }
        if (!p.drained)
            r.notes.push_back(fmt::format("frame path {}: the shell had not received every frame", name));
        if (s == Stream::Scanout) {
            r.set("update_present_p50_ms", p.present_p50_ms.value_or(NAN));
            r.set("update_present_p99_ms", p.present_p99_ms.value_or(NAN));
            r.set("memcpy_1080p_ms", p.memcpy_ms);
        } else {
            r.set("update_present_p50_ms_" + suffix, p.present_p50_ms.value_or(NAN));
            r.set("update_present_p99_ms_" + suffix, p.present_p99_ms.value_or(NAN));
        }
        r.set("copies_per_frame_" + suffix, p.copies_per_frame);
        r.set("bytes_copied_per_frame_" + suffix, p.bytes_copied_per_frame);
        r.set("cpu_ms_per_frame_" + suffix, p.shell_cpu_ms_per_presented);
        r.set("cpu_ms_per_received_frame_" + suffix, p.shell_cpu_ms_per_received);
        r.set("shell_faults_per_frame_" + suffix, p.shell_faults_per_frame);
        r.set("shell_faults_per_message_" + suffix, p.shell_faults_per_message);
        r.set("shell_faults_per_s_" + suffix, p.shell_faults_per_s);
        r.set("shell_faults_warmup_" + suffix, p.shell_faults_warmup);
        r.set("frames_sent_" + suffix, static_cast<double>(p.sent));
        r.set("frames_presented_" + suffix, static_cast<double>(p.presented));
    }
}

// ---------------------------------------------------------------------------------------------
// Start-up.

// Process start -> first committed frame, no guest: the shell's own first_frame_ms (from
// /proc/self/stat's start time, so in 1/CLK_TCK = 10 ms steps). Also RSS with 0 guests.

void start_overlay(Results& r, bool quick) {
    const int runs = quick ? 3 : 7;
    std::vector<double> firsts, kernel_firsts, faults;
    std::string memory_json;
    fmt::print(stderr, "start-up: {} starts with no guest...\n", runs);
    for (int i = 0; i < runs; ++i) {
        ShellProcess::Options o;
        o.config_toml = output_config(1920, 1080);
        ShellProcess shell(o);
        std::optional<double> first, at;
        phyllome::test::wait_until(
            [&] {
                const std::string json = shell.status_json();
                first = json_number(json, "first_frame_ms");
                at = json_number(json, "first_frame_at_ms");
                return first.has_value();
            },
            10s);
        // Page faults by then (a little after: the status round trip), to weigh against the
        // cost of one fault on this machine.
        if (first)
            if (const int pid = phyllome::bench::find_pid_by_arg(shell.config_path()); pid > 0)
                faults.push_back(static_cast<double>(phyllome::bench::minor_faults(pid)));
        // fork() -> the commit of the first frame, both on CLOCK_MONOTONIC.
        if (at)
            firsts.push_back(*at - shell.spawned_at_ms());
        if (first)
            kernel_firsts.push_back(*first);
        if (i == 0) {
            std::this_thread::sleep_for(2500ms); // past the heap's release, a second after the last repaint
            memory_json = shell.status_json();
        }
    }
    r.set("start_to_overlay_ms", percentile(firsts, 50));
    r.set("start_to_overlay_max_ms", percentile(firsts, 100));
    r.set("start_to_overlay_kernel_clock_ms", percentile(kernel_firsts, 50));
    r.set("start_to_overlay_shell_faults", percentile(faults, 50));
    r.set("page_fault_cost_us", phyllome::bench::page_fault_cost_us());
    r.set("start_to_overlay_fault_ms",
          r.get("start_to_overlay_shell_faults") * r.get("page_fault_cost_us") / 1000.0);
    set_memory(r, "0_guests", memory_json);
}

// Process start -> first frame of a guest that was already running. The peer is listening
// before the shell starts and sends its 1080p frame the moment the shell registers a listener,
// as QEMU does. No status field timestamps that commit, so it is put together from the test
// side: (peer's send time - our spawn time) + the shell's own receive->commit latency of that
// single frame (present_ms.p50 with one sample). It leaves out the socket transfer of the
// frame (about one memcpy of 8 MB). An upper bound comes from polling status.
void start_guest(Results& r, bool quick) {
    const int runs = quick ? 3 : 7;
    std::vector<double> estimates, uppers, overlays, faults;
    fmt::print(stderr, "start-up: {} starts with a 1080p guest already running...\n", runs);
    for (int i = 0; i < runs; ++i) {
        PeerHost peers({{"ready", 1920, 1080, 0}});
        ShellProcess::Options o;
        o.config_toml = output_config(1920, 1080);
        o.extra_args = peers.display_args();
        const auto spawn = Clock::now();
        ShellProcess shell(o);
        const StopPeersFirst stop_peers(peers);
        std::optional<GuestStats> g;
        std::string json;
        const bool seen = phyllome::test::wait_until(
            [&] {
                json = shell.status_json();
                g = phyllome::test::parse_guest_stats(json, "ready");
                return g && g->frames_presented >= 1;
            },
            10s);
        const double upper = ms_between(spawn, Clock::now());
        if (!seen || !g)
            continue;
        uppers.push_back(upper);
        if (const int pid = phyllome::bench::find_pid_by_arg(shell.config_path()); pid > 0)
            faults.push_back(static_cast<double>(phyllome::bench::minor_faults(pid)));
        if (auto f = json_number(json, "first_frame_ms"))
            overlays.push_back(*f);
        if (g->present_p50_ms && peers.first_send(0).time_since_epoch().count() > 0)
            estimates.push_back(ms_between(spawn, peers.first_send(0)) + *g->present_p50_ms);
    }
    r.set("start_to_guest_frame_ms", estimates.empty() ? NAN : percentile(estimates, 50));
    r.set("start_to_guest_frame_upper_ms", percentile(uppers, 50));
    r.set("first_frame_ms_with_guest", percentile(overlays, 50));
    r.set("start_to_guest_frame_shell_faults", percentile(faults, 50));
    if (estimates.empty())
        r.notes.push_back("start-up: the first guest frame carried no present latency (not visible yet?); "
                          "only the polled upper bound is known");
}

// ---------------------------------------------------------------------------------------------
// Idle: one static 1080p guest shown, nothing changes; the shell's context switches (all
// threads, voluntary: each is a sleep, i.e. one wakeup after it) and CPU over the window,
// sampled from /proc without talking to the shell. Then RSS with 1 and 4 guests.
//
// Measured twice: nested in a second shell through wlroots' Wayland backend, whose frame
// events come only after a commit (like DRM's page flips), and on the headless backend
// (whose frame timer ran at the refresh rate whatever the compositor did in wlroots 0.15).

struct IdleSample {
    double wakeups_per_s = NAN, main_wakeups_per_s = NAN, cpu_ms_per_s = NAN;
    double threads = NAN;
};

std::optional<IdleSample> idle_window(ShellProcess& shell, const char* guest, double window_s) {
    const bool shown = phyllome::test::wait_until(
        [&] {
            auto g = phyllome::test::parse_guest_stats(shell.status_json(), guest);
            return g && g->frames_presented >= 1;
        },
        20s);
    const int pid = phyllome::bench::find_pid_by_arg(shell.config_path());
    if (!shown || pid <= 0)
        return std::nullopt;
    std::this_thread::sleep_for(3s); // past the identity banner (1.2 s) and its fade
    const auto a = phyllome::bench::sample_process(pid);
    const auto t0 = Clock::now();
    std::this_thread::sleep_for(std::chrono::duration<double>(window_s));
    const auto b = phyllome::bench::sample_process(pid);
    const double s = ms_between(t0, Clock::now()) / 1000.0;
    IdleSample out;
    out.wakeups_per_s = static_cast<double>(b.voluntary - a.voluntary) / s;
    out.main_wakeups_per_s = static_cast<double>(b.main_voluntary - a.main_voluntary) / s;
    out.cpu_ms_per_s = (b.cpu_ms - a.cpu_ms) / s;
    out.threads = b.threads;
    return out;
}

void idle(Results& r, bool quick) {
    const double window_s = quick ? 4 : 10;
    {
        fmt::print(stderr, "idle: {} s with a static 1080p guest shown, nested (Wayland backend)...\n", window_s);
        ShellProcess::Options po;
        po.config_toml += "[security]\nallow_virtual_input = true\n";
        ShellProcess parent(po);
        PeerHost peers({{"still", 1920, 1080, 0}});
        ShellProcess::Options o;
        o.extra_args = peers.display_args();
        o.parent_wayland_socket = parent.wayland_socket();
        ShellProcess nested(o);
        const StopPeersFirst stop_peers(peers);
        // The nested shell is a window of the parent: it draws once the user switches to it.
        int number = 0;
        phyllome::test::wait_until([&] { return (number = phyllome::test::first_window_number(parent.status_json())) > 0; }, 20s);
        if (number > 0)
            parent.wtype({"-P", "Control_R", "-k", std::to_string(number), "-p", "Control_R"});
        if (const auto s = parent.started() && nested.started() ? idle_window(nested, "still", window_s) : std::nullopt) {
            r.set("idle_wakeups_per_s", s->wakeups_per_s);
            r.set("idle_wakeups_per_s_main_thread", s->main_wakeups_per_s);
            r.set("idle_cpu_ms_per_s", s->cpu_ms_per_s);
            r.set("idle_threads", s->threads);
        } else {
            r.notes.push_back("idle (nested): the guest was not shown or the shell's pid was not found: " +
                              nested.log().substr(0, 300));
        }
    }
    {
        PeerHost peers({{"still", 1920, 1080, 0}});
        ShellProcess::Options o;
        o.config_toml = output_config(1920, 1080);
        o.extra_args = peers.display_args();
        ShellProcess shell(o);
        const StopPeersFirst stop_peers(peers);
        fmt::print(stderr, "idle: {} s with a static 1080p guest shown, headless backend...\n", window_s);
        const auto s = idle_window(shell, "still", window_s);
        if (!s) {
            r.notes.push_back("idle: the guest was not shown or the shell's pid was not found");
            return;
        }
        r.set("idle_wakeups_per_s_headless", s->wakeups_per_s);
        r.set("idle_cpu_ms_per_s_headless", s->cpu_ms_per_s);
        const auto json = shell.status_json();
        set_memory(r, "1_guest", json);
        r.set("rss_idle_mb", r.get("rss_idle_mb_1_guest"));
    }
    {
        fmt::print(stderr, "memory: 4 guests at 1080p...\n");
        PeerHost peers({{"g1", 1920, 1080, 0}, {"g2", 1920, 1080, 0}, {"g3", 1920, 1080, 0}, {"g4", 1920, 1080, 0}});
        ShellProcess::Options o;
        o.config_toml = output_config(1920, 1080);
        o.extra_args = peers.display_args();
        ShellProcess shell(o);
        const StopPeersFirst stop_peers(peers);
        const bool all = phyllome::test::wait_until(
            [&] {
                const auto json = shell.status_json();
                for (const char* n : {"g1", "g2", "g3", "g4"}) {
                    auto g = phyllome::test::parse_guest_stats(json, n);
                    if (!g || g->frames < 1)
                        return false;
                }
                return true;
            },
            20s);
        if (!all) {
            r.notes.push_back("memory: the 4 guests did not all deliver a frame");
            return;
        }
        std::this_thread::sleep_for(2500ms); // past the heap's release, a second after the last new buffer
        set_memory(r, "4_guests", shell.status_json());
    }
}

// ---------------------------------------------------------------------------------------------
// Side by side on the animated test guest: drain floor, the shell, remote-viewer.

void stream(Results& r, bool quick, double seconds, int guest_fps) {
    if (quick) {
        r.stream_skipped = "skipped in --quick (tests/bench/run --only stream runs it, ~2 min)";
        return;
    }
    phyllome::bench::StreamBenchSpec spec;
    spec.seconds = seconds;
    spec.guest_fps = guest_fps;
    const auto s = phyllome::bench::run_stream_bench(spec);
    if (!s.skipped.empty())
        r.stream_skipped = "not measured: " + s.skipped;
    for (const auto& [k, v] : s.values)
        r.set(k, v);
    r.notes.insert(r.notes.end(), s.notes.begin(), s.notes.end());
}

// ---------------------------------------------------------------------------------------------

} // namespace

int main(int argc, char** argv) {
    bool quick = false;
    std::string json_path;
    std::vector<std::string> only;
    double stream_seconds = 20;
    int stream_guest_fps = 50;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--quick")
            quick = true;
        else if (a == "--json" && i + 1 < argc)
            json_path = argv[++i];
        else if (a == "--only" && i + 1 < argc)
            only.emplace_back(argv[++i]);
        else if (a == "--stream-seconds" && i + 1 < argc)
            stream_seconds = std::stod(argv[++i]);
        else if (a == "--stream-guest-fps" && i + 1 < argc)
            stream_guest_fps = std::stoi(argv[++i]);
        else {
            std::fputs("usage: shell_bench [--quick] [--json FILE] [--only frame|switch|start|idle|stream]... "
                       "[--stream-seconds S] [--stream-guest-fps N]\n",
                       stderr);
            return 2;
        }
    }
    if (!std::getenv("PHYLLOME_BUILD_ROOT")) {
        std::fputs("shell_bench: set PHYLLOME_BUILD_ROOT to the meson build directory (tests/bench/run does)\n", stderr);
        return 2;
    }
    const auto want = [&](const char* part) { return only.empty() || std::find(only.begin(), only.end(), part) != only.end(); };
    Results r;
    const auto t0 = Clock::now();
    // A phase that throws (a peer, the shell, a helper program) becomes a note: the others
    // still run, and the table and JSON are still written.
    const auto phase = [&](const char* part, const auto& run) {
        if (!want(part))
            return;
        try {
            run();
        } catch (const std::exception& e) {
            r.notes.push_back(fmt::format("{}: the phase failed: {}", part, e.what()));
            fmt::print(stderr, "{}: the phase failed: {}\n", part, e.what());
        }
    };
    phase("frame", [&] { frame_path(r, quick); });
    phase("switch", [&] {
        phyllome::bench::switching(r, "");
        // Again with every core busy (as TCG guests keep them): the shell's realtime priority
        // must keep a switch within a frame.
        const phyllome::bench::CpuHogs hogs(static_cast<int>(std::thread::hardware_concurrency()));
        phyllome::bench::switching(r, "_loaded");
    });
    phase("start", [&] {
        start_overlay(r, quick);
        start_guest(r, quick);
    });
    phase("idle", [&] { idle(r, quick); });
    // Asked for by name, the stream runs even with --quick.
    phase("stream", [&] { stream(r, quick && only.empty(), stream_seconds, stream_guest_fps); });
    r.set("bench_seconds", ms_between(t0, Clock::now()) / 1000.0);
    phyllome::bench::print_table(r, quick);
    if (!json_path.empty()) {
        std::ofstream out(json_path);
        out << phyllome::bench::to_json(r, quick);
        if (!out.flush()) {
            fmt::print(stderr, "shell_bench: cannot write {}\n", json_path);
            return 1;
        }
        fmt::print("wrote {}\n", json_path);
    }
    return 0;
}
