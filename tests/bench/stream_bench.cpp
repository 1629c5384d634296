#include "stream_bench.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <regex>
#include <thread>

#include <fmt/format.h>

#include "bench_guest.hpp"
#include "bench_phase.hpp"
#include "child_process.hpp"
#include "fake_display_session.hpp"
#include "proc_sample.hpp"
#include "shell_process.hpp"

namespace phyllome::bench {

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using phyllome::test::ShellProcess;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

std::string env_or(const char* name, const std::string& fallback) {
    const char* v = std::getenv(name);
    return v && *v ? std::string(v) : fallback;
}

void sleep_for_seconds(double s) { std::this_thread::sleep_for(std::chrono::duration<double>(s)); }

// CPU of a process and of QEMU over one window, and the guest's rate in it.
struct Window {
    double seconds = 0;
    double consumer_cpu_ms_per_s = NAN;
    double qemu_cpu_ms_per_s = NAN;
    double guest_fps = NAN;
    double consumer_faults_per_s = NAN; // minor page faults (/proc/PID/stat), all its threads
};

class WindowMeter {
public:
    WindowMeter(const BenchGuest& guest, pid_t consumer) : guest_(guest), consumer_(consumer) {}
    void begin() {
        mark_ = guest_.serial_mark();
        const ProcSample c = sample_process(consumer_);
        consumer0_ = c.cpu_ms;
        faults0_ = c.minor_faults;
        qemu0_ = sample_process(guest_.qemu_pid()).cpu_ms;
        t0_ = Clock::now();
    }
    Window end() const {
        Window w;
        w.seconds = seconds_since(t0_);
        const ProcSample c = sample_process(consumer_);
        w.consumer_cpu_ms_per_s = (c.cpu_ms - consumer0_) / w.seconds;
        w.consumer_faults_per_s = static_cast<double>(c.minor_faults - faults0_) / w.seconds;
        w.qemu_cpu_ms_per_s = (sample_process(guest_.qemu_pid()).cpu_ms - qemu0_) / w.seconds;
        w.guest_fps = guest_.mean_fps_since(mark_).value_or(NAN);
        return w;
    }

private:
    const BenchGuest& guest_;
    pid_t consumer_;
    std::uint64_t mark_ = 0;
    double consumer0_ = 0, qemu0_ = 0;
    std::uint64_t faults0_ = 0;
    Clock::time_point t0_;
};

void record_window(StreamBenchResult& r, const std::string& who, const Window& w) {
    r.values.emplace_back(who + "_cpu_ms_per_s", w.consumer_cpu_ms_per_s);
    r.values.emplace_back(who + "_phase_qemu_cpu_ms_per_s", w.qemu_cpu_ms_per_s);
    r.values.emplace_back(who + "_phase_guest_fps", w.guest_fps);
    r.values.emplace_back(who + "_faults_per_s", w.consumer_faults_per_s);
}

// (1) The bare drain listener: it times its own window and reports the messages it got.
void drain_phase(StreamBenchResult& r, const BenchGuest& guest, const StreamBenchSpec& spec) {
    fmt::print(stderr, "stream: drain listener for {} s...\n", spec.seconds);
    ChildProcess drain({phyllome::test::build_path("tests/bench/drain_listener"), "--uri", guest.uri(), "--domain",
                        guest.name(), "--warmup", fmt::format("{}", spec.warmup), "--seconds",
                        fmt::format("{}", spec.seconds)});
    WindowMeter meter(guest, drain.pid());
    const auto start = drain.read_line(60s);
    if (!start || *start != "window-start") {
        r.notes.push_back("stream: the drain listener got no stream");
        return;
    }
    meter.begin();
    const auto result = drain.read_line(std::chrono::milliseconds(static_cast<long>(spec.seconds * 1000) + 30000));
    const Window w = meter.end();
    if (!result) {
        r.notes.push_back("stream: the drain listener gave no result");
        return;
    }
    record_window(r, "drain", w);
    const double messages = json_number(*result, "messages").value_or(NAN);
    const double s = json_number(*result, "seconds").value_or(w.seconds);
    r.values.emplace_back("qemu_updates_per_s", messages / s);
    r.values.emplace_back("drain_updates_per_s", messages / s);
    r.values.emplace_back("drain_content_slots_per_s", json_number(*result, "content_slots_per_s").value_or(NAN));
    r.values.emplace_back("drain_scanouts_per_s", json_number(*result, "scanouts").value_or(NAN) / s);
    r.values.emplace_back("drain_mb_per_s", json_number(*result, "pixel_bytes").value_or(NAN) / s / 1e6);
    r.values.emplace_back("drain_self_cpu_ms_per_s", json_number(*result, "cpu_ms_per_s").value_or(NAN));
    // QEMU's pace varies between windows on a busy machine: per message, the costs compare.
    r.values.emplace_back("drain_cpu_ms_per_update", w.consumer_cpu_ms_per_s / (messages / s));
    r.values.emplace_back("drain_faults_per_update", w.consumer_faults_per_s / (messages / s));
}

// (2) phyllome-shell showing the guest on a 1280x800 headless output (60 Hz).
void shell_phase(StreamBenchResult& r, const BenchGuest& guest, const StreamBenchSpec& spec) {
    fmt::print(stderr, "stream: phyllome-shell for {} s...\n", spec.seconds);
    ShellProcess::Options o;
    o.libvirt_uri = guest.uri();
    o.config_toml = "[output.HEADLESS-1]\nmode = \"1280x800\"\n";
    ShellProcess shell(o);
    if (!shell.started()) {
        r.notes.push_back("stream: the shell did not start: " + shell.log().substr(0, 300));
        return;
    }
    const auto stats = [&] { return phyllome::test::parse_guest_stats(shell.status_json(), guest.name()); };
    bool asked = false;
    const bool shown = phyllome::test::wait_until(
        [&] {
            auto g = stats();
            if (g && g->view == "guest" && g->shown_guest == guest.name() && g->frames_presented >= 1)
                return true;
            if (g && !asked) { // a guest already running is listed, not necessarily shown
                shell.ctl({"show", guest.name()});
                asked = true;
            }
            return false;
        },
        60s);
    const int pid = find_pid_by_arg(shell.config_path());
    if (!shown || pid <= 0) {
        r.notes.push_back("stream: the shell did not show the guest: " + shell.status_json().substr(0, 400));
        return;
    }
    sleep_for_seconds(spec.warmup);
    WindowMeter meter(guest, pid);
    const auto a = stats();
    meter.begin();
    sleep_for_seconds(spec.seconds);
    const auto b = stats();
    const Window w = meter.end();
    if (!a || !b) {
        r.notes.push_back("stream: the shell's status lost the guest");
        return;
    }
    record_window(r, "shell", w);
    const double updates_per_s = static_cast<double>(b->frames - a->frames) / w.seconds;
    r.values.emplace_back("shell_updates_per_s", updates_per_s);
    r.values.emplace_back("shell_cpu_ms_per_update", w.consumer_cpu_ms_per_s / updates_per_s);
    r.values.emplace_back("shell_mb_copied_per_s", static_cast<double>(b->bytes_copied - a->bytes_copied) / w.seconds / 1e6);
    const double fps = static_cast<double>(b->frames_presented - a->frames_presented) / w.seconds;
    r.values.emplace_back("shell_fps_on_stream", fps);
    r.values.emplace_back("shell_faults_per_update", w.consumer_faults_per_s / updates_per_s);
    r.values.emplace_back("shell_faults_per_frame", fps > 0 ? w.consumer_faults_per_s / fps : NAN);
    r.values.emplace_back("shell_scanout_commits_per_s",
                          static_cast<double>(b->scanout_commits - a->scanout_commits) / w.seconds);
    r.values.emplace_back("shell_copies_per_update",
                          b->frames > a->frames ? static_cast<double>(b->copies - a->copies) /
                                                      static_cast<double>(b->frames - a->frames)
                                                : NAN);
    r.values.emplace_back("shell_refused", static_cast<double>(b->refused - a->refused));
    if (b->present_p50_ms)
        r.values.emplace_back("shell_stream_present_p50_ms", *b->present_p50_ms);
    if (b->present_p99_ms)
        r.values.emplace_back("shell_stream_present_p99_ms", *b->present_p99_ms);
}

// A free X display number for Xvfb.
int free_display() {
    for (int n = 90; n < 200; ++n) {
        struct stat st {};
        if (::stat(fmt::format("/tmp/.X11-unix/X{}", n).c_str(), &st) != 0 &&
            ::stat(fmt::format("/tmp/.X{}-lock", n).c_str(), &st) != 0)
            return n;
    }
    return -1;
}

// (3) remote-viewer on the guest's SPICE server, under Xvfb.
void remote_viewer_phase(StreamBenchResult& r, const BenchGuest& guest, const StreamBenchSpec& spec) {
    if (!phyllome::test::have_program("remote-viewer") || !phyllome::test::have_program("Xvfb")) {
        r.notes.push_back("stream: remote-viewer or Xvfb is not installed (apt-get install virt-viewer xvfb)");
        return;
    }
    const auto port = guest.spice_port();
    const int display = free_display();
    if (!port || display < 0) {
        r.notes.push_back("stream: no SPICE port or no free X display");
        return;
    }
    fmt::print(stderr, "stream: remote-viewer (SPICE port {}, Xvfb :{}) for {} s...\n", *port, display, spec.seconds);
    ChildProcess xvfb({"Xvfb", fmt::format(":{}", display), "-screen", "0", "1280x800x24", "-nolisten", "tcp"});
    const std::string socket = fmt::format("/tmp/.X11-unix/X{}", display);
    if (!phyllome::test::wait_until([&] { return ::access(socket.c_str(), F_OK) == 0; }, 20s)) {
        r.notes.push_back("stream: Xvfb did not come up");
        return;
    }
    ChildProcess viewer({"remote-viewer", "--full-screen", fmt::format("spice://127.0.0.1:{}", *port)},
                        {fmt::format("DISPLAY=:{}", display)});
    // The guest draws once a client takes its frames; then the same warm-up as the others.
    if (!guest.wait_animating(guest.serial_mark(), 60s) || !viewer.running()) {
        r.notes.push_back("stream: the guest did not animate with remote-viewer attached: " + guest.serial_tail());
        return;
    }
    sleep_for_seconds(spec.warmup);
    WindowMeter meter(guest, viewer.pid());
    const double xvfb0 = sample_process(xvfb.pid()).cpu_ms;
    meter.begin();
    sleep_for_seconds(spec.seconds);
    const Window w = meter.end();
    record_window(r, "remote_viewer", w);
    r.values.emplace_back("xvfb_cpu_ms_per_s", (sample_process(xvfb.pid()).cpu_ms - xvfb0) / w.seconds);
    if (!viewer.running())
        r.notes.push_back("stream: remote-viewer exited during its window");
}

double value_of(const StreamBenchResult& r, const std::string& key) {
    for (const auto& [k, v] : r.values)
        if (k == key)
            return v;
    return NAN;
}

} // namespace

StreamBenchResult run_stream_bench(const StreamBenchSpec& spec) {
    StreamBenchResult r;
    for (const char* tool : {"virsh", "qemu-system-x86_64"})
        if (!phyllome::test::have_program(tool)) {
            r.skipped = fmt::format("{} is not installed", tool);
            return r;
        }
    const std::string src = env_or("PHYLLOME_SOURCE_ROOT", "");
    fmt::print(stderr, "stream: building the animated test guest (cached)...\n");
    const auto built = phyllome::test::run_command({src + "/scripts/build-bench-guest", "--quiet"}, {}, 900s);
    if (built.exit_code != 0 || built.out.empty()) {
        r.skipped = "scripts/build-bench-guest failed: " + built.err.substr(0, 300);
        return r;
    }
    BenchGuestSpec gs;
    gs.kernel_dir = built.out.substr(0, built.out.find('\n'));
    gs.embed_root = env_or("PHYLLOME_BENCH_EMBED_ROOT", "/var/tmp/phyllome-bench-embed-" + std::to_string(getuid()));
    gs.fps = spec.guest_fps;
    gs.band_rows = spec.guest_band_rows;
    // One boot with the D-Bus display for the drain and the shell, one with SPICE for
    // remote-viewer: same kernel, program and rate (see bench_guest.hpp for why not one).
    {
        BenchGuest guest(gs);
        fmt::print(stderr, "stream: starting the guest with a D-Bus display (TCG; a new root first probes QEMU)...\n");
        if (auto err = guest.start(); !err.empty()) {
            r.skipped = err.substr(0, 300);
            return r;
        }
        if (!guest.wait_booted(180s)) {
            r.skipped = "the guest did not boot: " + guest.serial_tail();
            return r;
        }
        drain_phase(r, guest, spec);
        shell_phase(r, guest, spec);
    }
    {
        gs.graphics = BenchGuestSpec::Graphics::Spice;
        gs.name += "-spice";
        BenchGuest guest(gs);
        fmt::print(stderr, "stream: starting the guest again with SPICE...\n");
        if (auto err = guest.start(); !err.empty())
            r.notes.push_back("stream: the SPICE guest did not start: " + err.substr(0, 300));
        else if (!guest.wait_booted(180s))
            r.notes.push_back("stream: the SPICE guest did not boot: " + guest.serial_tail());
        else
            remote_viewer_phase(r, guest, spec);
    }

    const double shell = value_of(r, "shell_cpu_ms_per_s");
    r.values.emplace_back("cpu_ratio_vs_drain_floor", shell / value_of(r, "drain_cpu_ms_per_s"));
    r.values.emplace_back("cpu_ratio_vs_remote_viewer", shell / value_of(r, "remote_viewer_cpu_ms_per_s"));
    r.values.emplace_back("stream_seconds_per_consumer", spec.seconds);
    return r;
}

} // namespace phyllome::bench
