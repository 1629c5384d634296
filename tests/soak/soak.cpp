// Soak: the real shell with two fake QEMU displays streaming at once, switched every second
// with phyllomectl next, for N minutes. Samples the shell's resident memory and open fd count
// every few seconds and fails if either drifted more than 5% from the end of the warm-up to
// the end. Not part of `meson test`: run tests/soak/run (see tests/soak/README.md).
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <wayland-server-core.h>

#include "fake_display_session.hpp"
#include "shell_probe.hpp"
#include "shell_process.hpp"
#include "tests/display/fake_qemu_display.hpp"

namespace {

using namespace phyllome;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using guestview::testing::FakeQemuDisplay;

struct Options {
    double minutes = 30;
    double fps = 30;
    int sample_seconds = 10;
    int warmup_seconds = -1; // -1: a minute, or a third of a short run
    double max_drift_percent = 5;
    int width = 1280, height = 800;
};

void usage(FILE* to) {
    std::fputs("Usage: soak [--minutes N] [--fps F] [--sample-seconds S] [--warmup-seconds S]\n"
               "            [--max-drift-percent P] [--size WxH]\n"
               "Two fake guests stream WxH (default 1280x800) at F frames a second (default 30),\n"
               "mixing small and full-screen updates over shared memory and inline data; the shell\n"
               "switches between them every second. Exit status 1 if the shell's RSS or open fd\n"
               "count drifted more than P% (default 5) from the end of the warm-up to the end.\n",
               to);
}

bool parse(int argc, char** argv, Options& o) {
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        const char* v = i + 1 < argc ? argv[i + 1] : nullptr;
        if (a == "-h" || a == "--help") {
            usage(stdout);
            std::exit(0);
        }
        if (!v)
            return false;
        ++i;
        if (a == "--minutes")
            o.minutes = std::atof(v);
        else if (a == "--fps")
            o.fps = std::atof(v);
        else if (a == "--sample-seconds")
            o.sample_seconds = std::atoi(v);
        else if (a == "--warmup-seconds")
            o.warmup_seconds = std::atoi(v);
        else if (a == "--max-drift-percent")
            o.max_drift_percent = std::atof(v);
        else if (a == "--size") {
            if (std::sscanf(v, "%dx%d", &o.width, &o.height) != 2)
                return false;
        } else
            return false;
    }
    return o.minutes > 0 && o.fps > 0 && o.sample_seconds > 0 && o.width > 0 && o.height > 0;
}

long own_rss_kb() { return test::resident_kb(getpid()); }

// Ctrl+C or SIGTERM ends the run early, with the comparison so far and the shell stopped.
volatile sig_atomic_t stop_requested = 0;
void request_stop(int) { stop_requested = 1; }

// One guest's picture: a shared-memory surface (as QEMU's ScanoutMap) or inline data, taking
// turns every 10 s so both paths, and the replacement of a mapping, are soaked.
class Streamer {
public:
    Streamer(FakeQemuDisplay& peer, int w, int h, unsigned base_colour)
        : peer_(peer), w_(w), h_(h), base_(base_colour), patch_(static_cast<std::size_t>(patch) * patch * 4) {}
    ~Streamer() { unmap(); }
    Streamer(const Streamer&) = delete;
    Streamer& operator=(const Streamer&) = delete;

    // Frame k: every (fps * 10)th a new surface; every 30th a full-screen update; else a patch.
    void frame(std::uint64_t k, std::uint64_t frames_per_10s) {
        const unsigned colour = (base_ + static_cast<unsigned>(k) * 0x030507) & 0xffffff;
        if (k % frames_per_10s == 0) {
            use_map_ = !use_map_;
            new_surface(colour);
            ++surfaces;
            return;
        }
        if (k % 30 == 0) {
            fill_full(colour);
            ++full_updates;
            return;
        }
        const int cols = std::max(1, w_ / patch), rows = std::max(1, h_ / patch);
        const int x = static_cast<int>(k % static_cast<std::uint64_t>(cols)) * patch;
        const int y = static_cast<int>((k / static_cast<std::uint64_t>(cols)) % static_cast<std::uint64_t>(rows)) * patch;
        const int pw = std::min(patch, w_ - x), ph = std::min(patch, h_ - y);
        if (use_map_) {
            for (int row = 0; row < ph; ++row)
                for (int col = 0; col < pw; ++col)
                    test::put_xrgb(shared_ + (static_cast<std::size_t>(y + row) * w_ + x + col) * 4, colour);
            peer_.update_map(0, x, y, pw, ph);
        } else {
            for (std::size_t i = 0; i < patch_.size(); i += 4)
                test::put_xrgb(&patch_[i], colour);
            peer_.update(0, x, y, pw, ph, static_cast<std::uint32_t>(patch) * 4, test::FakeDisplaySession::xrgb,
                         std::span(patch_).first(static_cast<std::size_t>(patch) * 4 * (ph - 1) + pw * 4));
        }
        ++partial_updates;
    }

    unsigned long surfaces = 0, full_updates = 0, partial_updates = 0;
    static constexpr int patch = 128;

private:
    std::size_t bytes() const { return static_cast<std::size_t>(w_) * h_ * 4; }
    void unmap() {
        if (shared_)
            munmap(shared_, bytes());
        shared_ = nullptr;
    }
    void new_surface(unsigned colour) {
        unmap();
        if (use_map_) {
            const int memfd = memfd_create("soak-surface", MFD_CLOEXEC);
            if (memfd < 0 || ftruncate(memfd, static_cast<off_t>(bytes())) != 0) {
                std::perror("soak: memfd");
                std::exit(2);
            }
            void* at = mmap(nullptr, bytes(), PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
            if (at == MAP_FAILED) {
                std::perror("soak: mmap");
                std::exit(2);
            }
            shared_ = static_cast<std::uint8_t*>(at);
            for (std::size_t i = 0; i < bytes(); i += 4)
                test::put_xrgb(shared_ + i, colour);
            peer_.scanout_map(0, memfd, 0, static_cast<std::uint32_t>(w_), static_cast<std::uint32_t>(h_),
                              static_cast<std::uint32_t>(w_) * 4, test::FakeDisplaySession::xrgb);
            close(memfd); // sd-bus holds its own copy until it is sent
        } else {
            full_.resize(bytes());
            for (std::size_t i = 0; i < full_.size(); i += 4)
                test::put_xrgb(&full_[i], colour);
            peer_.scanout(0, static_cast<std::uint32_t>(w_), static_cast<std::uint32_t>(h_),
                          static_cast<std::uint32_t>(w_) * 4, test::FakeDisplaySession::xrgb, full_);
        }
    }
    void fill_full(unsigned colour) {
        if (use_map_) {
            for (std::size_t i = 0; i < bytes(); i += 4)
                test::put_xrgb(shared_ + i, colour);
            peer_.update_map(0, 0, 0, w_, h_);
        } else {
            for (std::size_t i = 0; i < full_.size(); i += 4)
                test::put_xrgb(&full_[i], colour);
            peer_.update(0, 0, 0, w_, h_, static_cast<std::uint32_t>(w_) * 4, test::FakeDisplaySession::xrgb, full_);
        }
    }

    FakeQemuDisplay& peer_;
    int w_, h_;
    unsigned base_;
    bool use_map_ = false; // flipped before the first surface: it starts with a mapping
    std::uint8_t* shared_ = nullptr;
    std::vector<std::uint8_t> full_;
    std::vector<std::uint8_t> patch_;
};

struct Sample {
    double t = 0;
    long rss_kb = 0;
    int fds = 0;
    std::string shown;
    std::uint64_t frames_amber = 0, frames_teal = 0;
};

double drift_percent(double from, double to) { return from > 0 ? (to - from) * 100.0 / from : 0; }

} // namespace

int main(int argc, char** argv) {
    Options opt;
    if (!parse(argc, argv, opt)) {
        usage(stderr);
        return 2;
    }
    int total_s = static_cast<int>(std::lround(opt.minutes * 60));
    signal(SIGINT, request_stop);
    signal(SIGTERM, request_stop);
    const int warmup_s = opt.warmup_seconds >= 0 ? opt.warmup_seconds : std::min(60, total_s / 3);

    char tmpl[] = "/tmp/phyllome-soak-XXXXXX";
    const std::string dir = mkdtemp(tmpl);
    wl_event_loop* loop = wl_event_loop_create();
    std::map<std::string, std::unique_ptr<FakeQemuDisplay>> peers;
    guestview::testing::FakeConsoleConfig console;
    console.width = static_cast<std::uint32_t>(opt.width);
    console.height = static_cast<std::uint32_t>(opt.height);
    for (const char* name : {"amber", "teal"}) {
        peers[name] = std::make_unique<FakeQemuDisplay>(loop, std::string(name) + "-vm", std::vector{console});
        peers[name]->listen_unix(dir + "/" + name + ".sock");
    }
    auto pump_until_time = [&](Clock::time_point until) {
        for (;;) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now()).count();
            wl_event_loop_dispatch(loop, static_cast<int>(std::max<long long>(0, left)));
            wl_event_loop_dispatch_idle(loop);
            if (left <= 0)
                return;
        }
    };

    int status = 0;
    {
        test::ShellProcess::Options so;
        so.config_toml = "[output.HEADLESS-1]\nmode = \"" + std::to_string(opt.width) + "x" + std::to_string(opt.height) + "\"\n";
        // Half an hour without input would lock the screen after ten minutes (a locker's process
        // and connection in the middle of the drift measured): switches come from phyllomectl.
        so.config_toml += "[lock]\nidle_timeout_s = 0\n";
        so.extra_args = {"--display", "amber=unix:path=" + dir + "/amber.sock", "--display",
                         "teal=unix:path=" + dir + "/teal.sock"};
        test::ShellProcess shell(so);
        if (!shell.started()) {
            std::fprintf(stderr, "soak: the shell did not start:\n%s\n", shell.log().c_str());
            return 1;
        }
        const auto attach_end = Clock::now() + 30s;
        bool attached = false;
        while (!attached && Clock::now() < attach_end) {
            pump_until_time(Clock::now() + 50ms);
            if (!peers["amber"]->listener_connected(0) || !peers["teal"]->listener_connected(0))
                continue;
            const std::string json = shell.status_json();
            auto a = test::parse_guest_stats(json, "amber"), t = test::parse_guest_stats(json, "teal");
            attached = a && t && a->display == "connected" && t->display == "connected";
        }
        auto pid = test::shell_pid(shell);
        if (!attached || !pid) {
            std::fprintf(stderr, "soak: the displays did not attach:\n%s\n", shell.log().c_str());
            return 1;
        }
        std::printf("soak: shell pid %d, %dx%d at %.0f fps per guest, a switch every second, %d min "
                    "(warm-up %d s, a sample every %d s)\n",
                    *pid, opt.width, opt.height, opt.fps, total_s / 60, warmup_s, opt.sample_seconds);
        std::printf("%8s %10s %6s %8s %12s %12s\n", "t (s)", "RSS (kB)", "fds", "shown", "frames amber",
                    "frames teal");
        std::fflush(stdout);

        Streamer amber(*peers["amber"], opt.width, opt.height, 0xc08020);
        Streamer teal(*peers["teal"], opt.width, opt.height, 0x208080);
        const auto frames_per_10s = static_cast<std::uint64_t>(std::max(1.0, opt.fps * 10));
        const auto period = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(1.0 / opt.fps));
        const long own_rss_base = own_rss_kb();
        std::vector<Sample> samples;
        unsigned long switches = 0, switch_failures = 0, skipped = 0;
        const auto start = Clock::now();
        auto next_switch = start + 1s;
        auto next_sample = start + 5s; // between the 10 s surface changes
        bool shell_died = false;
        for (std::uint64_t k = 0;; ++k) {
            const auto tick = start + period * static_cast<long>(k);
            if (tick - start >= std::chrono::seconds(total_s) || stop_requested)
                break;
            pump_until_time(tick);
            // Never queue frames without bound in this process if the shell falls behind.
            if (own_rss_kb() > own_rss_base + 256 * 1024)
                ++skipped;
            else {
                amber.frame(k, frames_per_10s);
                teal.frame(k, frames_per_10s);
            }
            const auto now = Clock::now();
            if (now >= next_switch) {
                next_switch += 1s;
                ++switches;
                if (shell.ctl({"next"}).exit_code != 0)
                    ++switch_failures;
            }
            if (now >= next_sample) {
                next_sample += std::chrono::seconds(opt.sample_seconds);
                if (!shell.running()) {
                    shell_died = true;
                    break;
                }
                Sample s;
                s.t = std::chrono::duration<double>(now - start).count();
                s.rss_kb = test::resident_kb(*pid);
                // The least of three looks: an fd opened for a moment (a phyllomectl connection
                // being closed) is not a leak.
                s.fds = test::open_fd_count(*pid);
                for (int i = 0; i < 2; ++i) {
                    pump_until_time(Clock::now() + 20ms);
                    s.fds = std::min(s.fds, test::open_fd_count(*pid));
                }
                const std::string json = shell.status_json();
                auto a = test::parse_guest_stats(json, "amber"), t = test::parse_guest_stats(json, "teal");
                s.shown = a ? a->shown_guest : "?";
                s.frames_amber = a ? a->frames : 0;
                s.frames_teal = t ? t->frames : 0;
                std::printf("%8.0f %10ld %6d %8s %12llu %12llu\n", s.t, s.rss_kb, s.fds, s.shown.c_str(),
                            static_cast<unsigned long long>(s.frames_amber),
                            static_cast<unsigned long long>(s.frames_teal));
                std::fflush(stdout);
                samples.push_back(s);
            }
        }
        if (shell_died || !shell.running()) {
            std::fprintf(stderr, "soak: FAIL: the shell died:\n%s\n", shell.log().c_str());
            return 1;
        }
        if (stop_requested) {
            total_s = static_cast<int>(std::chrono::duration<double>(Clock::now() - start).count());
            std::printf("soak: stopped after %d s\n", total_s);
        }
        // Start and end are the least of the samples in a window (a minute, or less in a short
        // run): RSS moves by about one frame buffer (4 MB at 1280x800) with whether a frame is
        // held when the sample is taken, so single samples, or even means, measure that and not
        // a leak. A leak raises the floor. The means are printed too.
        const double window = std::min(60.0, (total_s - warmup_s) / 2.0);
        struct Mean {
            double rss = 0, fds = 0;
            long rss_floor = 0;
            int fds_floor = 0;
            int n = 0;
            std::uint64_t frames_amber = 0, frames_teal = 0;
        };
        auto mean_over = [&](double from, double to) {
            Mean m;
            for (const auto& s : samples)
                if (s.t >= from && s.t < to) {
                    m.rss += static_cast<double>(s.rss_kb);
                    m.fds += s.fds;
                    m.rss_floor = m.n == 0 ? s.rss_kb : std::min(m.rss_floor, s.rss_kb);
                    m.fds_floor = m.n == 0 ? s.fds : std::min(m.fds_floor, s.fds);
                    ++m.n;
                    m.frames_amber = s.frames_amber;
                    m.frames_teal = s.frames_teal;
                }
            if (m.n > 0) {
                m.rss /= m.n;
                m.fds /= m.n;
            }
            return m;
        };
        const Mean first = mean_over(warmup_s, warmup_s + window);
        const Mean last = mean_over(total_s - window, total_s + 1);
        if (first.n == 0 || last.n == 0) {
            std::fprintf(stderr, "soak: FAIL: no samples after the warm-up to compare\n");
            return 1;
        }
        long rss_max = 0;
        for (const auto& s : samples)
            rss_max = std::max(rss_max, s.rss_kb);
        const double rss_drift =
            drift_percent(static_cast<double>(first.rss_floor), static_cast<double>(last.rss_floor));
        const double fd_drift = drift_percent(first.fds_floor, last.fds_floor);
        const std::uint64_t sent_amber = amber.surfaces + amber.full_updates + amber.partial_updates;
        const std::uint64_t sent_teal = teal.surfaces + teal.full_updates + teal.partial_updates;
        std::printf("\nstreamed per guest: amber %llu messages (%lu surfaces, %lu full, %lu partial), teal %llu; "
                    "%lu ticks skipped (shell behind)\n",
                    static_cast<unsigned long long>(sent_amber), amber.surfaces, amber.full_updates,
                    amber.partial_updates, static_cast<unsigned long long>(sent_teal), skipped);
        std::printf("switches: %lu, failed: %lu\n", switches, switch_failures);
        std::printf("RSS: least %ld kB over %.0f-%.0f s (%d samples, mean %.0f) -> least %ld kB over the last %.0f s "
                    "(%d samples, mean %.0f): drift %+.2f%%; highest sample %ld kB\n",
                    first.rss_floor, static_cast<double>(warmup_s), warmup_s + window, first.n, first.rss,
                    last.rss_floor, window, last.n, last.rss, rss_drift, rss_max);
        std::printf("fds: least %d (mean %.1f) -> least %d (mean %.1f): drift %+.2f%%\n", first.fds_floor, first.fds,
                    last.fds_floor, last.fds, fd_drift);
        const bool streamed = last.frames_amber > first.frames_amber && last.frames_teal > first.frames_teal;
        const bool ok = std::abs(rss_drift) <= opt.max_drift_percent && std::abs(fd_drift) <= opt.max_drift_percent &&
                        switch_failures == 0 && streamed;
        std::printf("%s (limit %.1f%%)\n", ok ? "PASS" : "FAIL", opt.max_drift_percent);
        if (!streamed)
            std::printf("FAIL: the shell stopped taking frames\n");
        status = ok ? 0 : 1;
    }
    peers.clear();
    wl_event_loop_destroy(loop);
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
    return status;
}
