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
#include "fake_display_session.hpp"
#include "peer_host.hpp"
#include "shell_process.hpp"
#include "stream_bench.hpp"

namespace {

using namespace std::chrono_literals;
using phyllome::bench::json_number;
using phyllome::bench::PeerHost;
using phyllome::bench::PhaseResult;
using phyllome::bench::PhaseSpec;
using phyllome::bench::Stream;
using phyllome::test::GuestStats;
using phyllome::test::ShellProcess;
using Clock = std::chrono::steady_clock;

double ms_between(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double, std::milli>(b - a).count(); }

std::optional<std::string> shown_guest(const std::string& json) {
    std::smatch m;
    static const std::regex re(R"re(^\{"view": "[a-z]+", "guest": "([^"]*)")re");
    if (!std::regex_search(json, m, re))
        return std::nullopt;
    return m[1].str();
}

double percentile(std::vector<double> v, double p) {
    if (v.empty())
        return NAN;
    std::sort(v.begin(), v.end());
    const auto i = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(v.size()))) - (p > 0 ? 1 : 0);
    return v[std::min(i, v.size() - 1)];
}

std::string output_config(int w, int h) { return fmt::format("[output.HEADLESS-1]\nmode = \"{}x{}\"\n", w, h); }

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

// ---------------------------------------------------------------------------------------------
// Frame path: 1080p full frames on the inline-copy path (Scanout) and on the map path.

void frame_path(Results& r, bool quick) {
    const double seconds = quick ? 3 : 10;
    std::vector<Stream> streams = {Stream::Scanout, Stream::Map};
    if (!quick)
        streams.insert(streams.begin() + 1, Stream::Update);
    for (Stream s : streams) {
        const std::string name = s == Stream::Scanout ? "copy" : s == Stream::Map ? "map" : "update256";
        fmt::print(stderr, "frame path: 1920x1080 {} at 60/s for {} s...\n", name, seconds);
        const PhaseResult p = phyllome::bench::run_phase(PhaseSpec{1920, 1080, s, 60, seconds});
        if (!p.error.empty()) {
            r.notes.push_back(fmt::format("frame path {}: {}", name, p.error.substr(0, 300)));
            continue;
        }
        if (!p.drained)
            r.notes.push_back(fmt::format("frame path {}: the shell had not received every frame", name));
        const std::string suffix = s == Stream::Scanout ? "copy_path" : s == Stream::Map ? "map_path" : "update256";
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
        r.set("frames_sent_" + suffix, static_cast<double>(p.sent));
        r.set("frames_presented_" + suffix, static_cast<double>(p.presented));
    }
}

// ---------------------------------------------------------------------------------------------
// Switch: hotkey-equivalent `phyllomectl next` between two streaming guests; the shell's own
// last_switch_ms (show_guest -> first output commit carrying the new guest's frame).

void switching(Results& r, bool quick) {
    const int switches = 200;
    const int rate = 30;
    PeerHost peers({{"alpha", 1280, 800, rate}, {"beta", 1280, 800, rate}});
    ShellProcess::Options o;
    o.config_toml = output_config(1280, 800);
    o.extra_args = peers.display_args();
    ShellProcess shell(o);
    if (!shell.started()) {
        r.notes.push_back("switch: the shell did not start: " + shell.log().substr(0, 300));
        return;
    }
    const bool ready = phyllome::test::wait_until(
        [&] {
            const std::string json = shell.status_json();
            auto a = phyllome::test::parse_guest_stats(json, "alpha"), b = phyllome::test::parse_guest_stats(json, "beta");
            return a && b && a->frames >= 1 && b->frames >= 1 && shown_guest(json).value_or("") != "";
        },
        20s);
    if (!ready) {
        r.notes.push_back("switch: the two guests did not attach: " + shell.status_json().substr(0, 300));
        return;
    }
    fmt::print(stderr, "switch: {} switches between two 1280x800 guests streaming {}/s each...\n", switches, rate);
    peers.set_streaming(true);
    std::this_thread::sleep_for(300ms);
    std::vector<double> samples, round_trips;
    std::string json = shell.status_json();
    double previous = json_number(json, "last_switch_ms").value_or(-1);
    std::string current = shown_guest(json).value_or("");
    int failures = 0;
    for (int i = 0; i < switches; ++i) {
        const std::string expected = current == "alpha" ? "beta" : "alpha";
        const auto t0 = Clock::now();
        if (shell.ctl({"next"}).exit_code != 0) {
            ++failures;
            continue;
        }
        // Wait for the switch to be complete: the new guest is shown and a new last_switch_ms.
        std::optional<double> value;
        const auto deadline = Clock::now() + 1s;
        do {
            json = shell.status_json();
            const auto v = json_number(json, "last_switch_ms");
            if (shown_guest(json).value_or("") == expected && v && *v != previous) {
                value = v;
                break;
            }
        } while (Clock::now() < deadline);
        if (!value) {
            ++failures;
            current = shown_guest(json).value_or(expected);
            continue;
        }
        round_trips.push_back(ms_between(t0, Clock::now()));
        samples.push_back(*value);
        previous = *value;
        current = expected;
    }
    peers.set_streaming(false);
    if (failures)
        r.notes.push_back(fmt::format("switch: {} of {} switches gave no new last_switch_ms within 1 s", failures,
                                      switches));
    r.set("switch_p50_ms", percentile(samples, 50));
    r.set("switch_p99_ms", percentile(samples, 99));
    r.set("switch_max_ms", percentile(samples, 100));
    r.set("switch_count", static_cast<double>(samples.size()));
    r.set("switch_ctl_round_trip_p50_ms", percentile(round_trips, 50));
    if (peers.skipped())
        r.notes.push_back(fmt::format("switch: the peers skipped {} frames (the shell fell behind)", peers.skipped()));
}

// ---------------------------------------------------------------------------------------------
// Start-up.

// Process start -> first committed frame, no guest: the shell's own first_frame_ms (from
// /proc/self/stat's start time, so in 1/CLK_TCK = 10 ms steps). Also RSS with 0 guests.

// RSS and its parts from the shell's status: rss_idle_mb_<what>, and rss_anon_mb_<what> (the
// shell's own heap and copied frames), rss_file_mb_<what> (libraries' code, fonts),
// rss_shmem_mb_<what> (output buffers, mapped frames); frame_buffers_mb_<what>, the pixel
// buffers the shell counts itself (guest frames, output pictures), and rss_beyond_frames_mb_<what>,
// what the target (20 MB plus frame buffers) is about; rss_agent_mb_<what> and its parts: the
// libvirt agent, the shell's child process that holds libvirt.
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
void start_overlay(Results& r, bool quick) {
    const int runs = quick ? 3 : 7;
    std::vector<double> firsts, kernel_firsts;
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
    std::vector<double> estimates, uppers, overlays;
    fmt::print(stderr, "start-up: {} starts with a 1080p guest already running...\n", runs);
    for (int i = 0; i < runs; ++i) {
        PeerHost peers({{"ready", 1920, 1080, 0}});
        ShellProcess::Options o;
        o.config_toml = output_config(1920, 1080);
        o.extra_args = peers.display_args();
        const auto spawn = Clock::now();
        ShellProcess shell(o);
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
        if (auto f = json_number(json, "first_frame_ms"))
            overlays.push_back(*f);
        if (g->present_p50_ms && peers.first_send(0).time_since_epoch().count() > 0)
            estimates.push_back(ms_between(spawn, peers.first_send(0)) + *g->present_p50_ms);
    }
    r.set("start_to_guest_frame_ms", estimates.empty() ? NAN : percentile(estimates, 50));
    r.set("start_to_guest_frame_upper_ms", percentile(uppers, 50));
    r.set("first_frame_ms_with_guest", percentile(overlays, 50));
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
// events come only after a commit (like DRM's page flips), and on the headless backend,
// whose wlroots 0.15 frame timer runs at the refresh rate whatever the compositor does.

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
        ShellProcess parent({});
        PeerHost peers({{"still", 1920, 1080, 0}});
        ShellProcess::Options o;
        o.extra_args = peers.display_args();
        o.parent_wayland_socket = parent.wayland_socket();
        ShellProcess nested(o);
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

std::string fmt_value(double v, int decimals = 2) { return std::isnan(v) ? "-" : fmt::format("{:.{}f}", v, decimals); }

struct Row {
    const char* label;
    const char* key;
    const char* unit;
    const char* target; // human text
    double limit;       // pass when value <= limit (>= with at_least); NAN: no target
    bool at_least = false;
};

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
        {"update->present p50, 1080p 256x256 updates", "update_present_p50_ms_update256", "ms", "", NAN},
        {"shell CPU per frame, 256x256 updates", "cpu_ms_per_frame_update256", "ms", "", NAN},
        {"switch p50 (phyllomectl next)", "switch_p50_ms", "ms", "", NAN},
        {"switch p99", "switch_p99_ms", "ms", "<= 16.7", frame60},
        {"switches measured", "switch_count", "", "", NAN},
        {"start -> overlay frame (median, fork -> commit)", "start_to_overlay_ms", "ms", "<= 50", 50},
        {"  same from the kernel's start time (10 ms steps)", "start_to_overlay_kernel_clock_ms", "ms", "", NAN},
        {"start -> running guest's frame (median)", "start_to_guest_frame_ms", "ms", "<= 200", 200},
        {"  same, polled upper bound", "start_to_guest_frame_upper_ms", "ms", "", NAN},
        {"  shell's first_frame_ms in those runs", "first_frame_ms_with_guest", "ms", "", NAN},
        {"idle wakeups, nested (Wayland backend)", "idle_wakeups_per_s", "/s", "0", 0},
        {"  of which the main thread (event loop)", "idle_wakeups_per_s_main_thread", "/s", "", NAN},
        {"idle CPU, nested", "idle_cpu_ms_per_s", "ms/s", "", NAN},
        {"idle wakeups, headless (0.15's frame timer)", "idle_wakeups_per_s_headless", "/s", "", NAN},
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
               "  stream rows: the animated test guest, QEMU 7.2 under TCG, 1280x800)\n",
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
    if (want("frame"))
        frame_path(r, quick);
    if (want("switch"))
        switching(r, quick);
    if (want("start")) {
        start_overlay(r, quick);
        start_guest(r, quick);
    }
    if (want("idle"))
        idle(r, quick);
    if (want("stream"))
        stream(r, quick && only.empty(), stream_seconds, stream_guest_fps); // asked for by name, it runs even with --quick
    r.set("bench_seconds", ms_between(t0, Clock::now()) / 1000.0);
    print_table(r, quick);
    if (!json_path.empty()) {
        std::ofstream(json_path) << to_json(r, quick);
        fmt::print("wrote {}\n", json_path);
    }
    return 0;
}
