#include "bench_phase.hpp"

#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <fstream>
#include <regex>
#include <vector>

#include "fake_display_session.hpp"
#include "proc_sample.hpp"

namespace phyllome::bench {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using test::FakeDisplaySession;
using test::GuestStats;

constexpr int rect = 256;

double thread_cpu_ms() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

long own_rss_kb() {
    std::ifstream f("/proc/self/statm");
    long size = 0, resident = 0;
    f >> size >> resident;
    return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

// Median of several copies between two buffers already faulted in.
double memcpy_floor_ms(std::size_t bytes) {
    std::vector<std::uint8_t> from(bytes, 0x5a), to(bytes, 0);
    std::vector<double> runs;
    for (int i = 0; i < 15; ++i) {
        from[static_cast<std::size_t>(i) % bytes] = static_cast<std::uint8_t>(i);
        const auto t = Clock::now();
        std::memcpy(to.data(), from.data(), bytes);
        runs.push_back(ms_since(t));
        if (to[static_cast<std::size_t>(i) % bytes] != static_cast<std::uint8_t>(i))
            return -1; // keeps the copy from being optimised away
    }
    std::nth_element(runs.begin(), runs.begin() + 7, runs.end());
    return runs[7];
}

std::vector<std::uint8_t> frame(int w, int h, unsigned seed) {
    std::vector<std::uint8_t> data(static_cast<std::size_t>(w) * h * 4);
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x)
            test::put_xrgb(&data[(static_cast<std::size_t>(y) * w + x) * 4],
                           (static_cast<unsigned>(x) * 7 + static_cast<unsigned>(y) * 13 + seed) & 0xffffff);
    return data;
}

// Pumps the peer's loop until `until`: it keeps writing queued messages meanwhile.
void pump_until_time(FakeDisplaySession& session, Clock::time_point until) {
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now()).count();
        if (left <= 0)
            return;
        wl_event_loop_dispatch(session.loop(), static_cast<int>(left));
        wl_event_loop_dispatch_idle(session.loop());
    }
}

} // namespace

PhaseResult run_phase(const PhaseSpec& spec) {
    PhaseResult r;
    r.spec = spec;
    const int w = spec.width, h = spec.height;
    const std::uint32_t stride = static_cast<std::uint32_t>(w) * 4;
    const std::size_t frame_bytes = std::size_t{stride} * h;
    r.payload_bytes = spec.stream == Stream::Update  ? std::size_t{rect} * rect * 4
                      : spec.stream == Stream::Mixed ? std::size_t{stride} * std::min(band_rows, h)
                                                     : frame_bytes;
    r.memcpy_ms = memcpy_floor_ms(r.payload_bytes);

    FakeDisplaySession::Options o;
    o.output_width = w;
    o.output_height = h;
    o.console.width = static_cast<std::uint32_t>(w);
    o.console.height = static_cast<std::uint32_t>(h);
    FakeDisplaySession session(o);
    if (!session.wait_attached(20s)) {
        r.error = "the shell did not attach the fake display: " + session.shell().log();
        return r;
    }
    auto& peer = session.peer();
    const std::vector<std::uint8_t> frames[2] = {frame(w, h, 0), frame(w, h, 0x404040)};
    std::vector<std::uint8_t> patch(std::size_t{rect} * rect * 4);

    // A first full frame, shown before measuring: the Update stream needs a surface. The Map
    // stream shares one memfd: the peer draws into it and only says where with UpdateMap.
    std::uint8_t* shared = nullptr;
    struct Unmap {
        void* at = MAP_FAILED;
        std::size_t size = 0;
        ~Unmap() {
            if (at != MAP_FAILED)
                munmap(at, size);
        }
    } unmap;
    if (spec.stream == Stream::Map) {
        const int memfd = memfd_create("bench-surface", MFD_CLOEXEC);
        if (memfd < 0 || ftruncate(memfd, static_cast<off_t>(frame_bytes)) != 0) {
            r.error = "memfd_create failed";
            return r;
        }
        unmap.size = frame_bytes;
        unmap.at = mmap(nullptr, frame_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
        if (unmap.at == MAP_FAILED) {
            close(memfd);
            r.error = "mmap of the memfd failed";
            return r;
        }
        shared = static_cast<std::uint8_t*>(unmap.at);
        std::memcpy(shared, frames[1].data(), frame_bytes);
        peer.scanout_map(0, memfd, 0, static_cast<std::uint32_t>(w), static_cast<std::uint32_t>(h), stride,
                         FakeDisplaySession::xrgb);
        close(memfd); // sd-bus duplicated it into the message
    } else {
        peer.scanout(0, static_cast<std::uint32_t>(w), static_cast<std::uint32_t>(h), stride,
                     FakeDisplaySession::xrgb, frames[1]);
    }
    GuestStats before;
    if (!session.wait_stats([](const GuestStats& s) { return s.frames >= 1 && s.frames_presented >= 1; }, 20s,
                            &before)) {
        r.error = "the first frame was not presented";
        return r;
    }

    const int shell_pid = find_pid_by_arg(session.shell().config_path());
    const std::uint64_t faults_at_start = minor_faults(shell_pid);
    std::uint64_t faults_steady = 0, sent_steady = 0; // at one second into the stream
    Clock::time_point steady_from;

    // Never queue more than a few frames in the peer: QEMU 7.2 would, but an unbounded queue
    // would only measure this machine's memory. The queue shows in our own RSS.
    const long rss_base = own_rss_kb();
    const long rss_limit = rss_base + static_cast<long>(6 * frame_bytes / 1024);
    const auto period = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(1.0 / spec.rate));
    const auto ticks = static_cast<std::uint64_t>(spec.seconds * spec.rate);
    double call_ms = 0;
    const double cpu_start = thread_cpu_ms();
    const auto start = Clock::now();
    // The steady state starts past the first two seconds: the heap grows to the stream's working
    // set, and the identity banner (1.2 s and its fade) leaves the output to scan-out, whose
    // first commit may allocate a buffer.
    const std::uint64_t warmup_ticks = std::min<std::uint64_t>(2 * static_cast<std::uint64_t>(spec.rate), ticks / 2);
    for (std::uint64_t k = 0; k < ticks; ++k) {
        pump_until_time(session, start + period * static_cast<long>(k));
        if (k == warmup_ticks) {
            faults_steady = minor_faults(shell_pid);
            sent_steady = r.sent;
            steady_from = Clock::now();
        }
        if (own_rss_kb() > rss_limit) {
            ++r.skipped;
            continue;
        }
        const auto t = Clock::now();
        std::uint64_t messages = 1;
        if (spec.stream == Stream::Map) {
            // The guest redraws the whole shared surface, then QEMU announces it.
            std::memcpy(shared, frames[k % 2].data(), frame_bytes);
            peer.update_map(0, 0, 0, w, h);
        } else if (spec.stream == Stream::Scanout) {
            peer.scanout(0, static_cast<std::uint32_t>(w), static_cast<std::uint32_t>(h), stride,
                         FakeDisplaySession::xrgb, frames[k % 2]);
        } else if (spec.stream == Stream::Mixed && k % 3 == 0) {
            peer.scanout(0, static_cast<std::uint32_t>(w), static_cast<std::uint32_t>(h), stride,
                         FakeDisplaySession::xrgb, frames[k % 2]);
        } else if (spec.stream == Stream::Mixed) {
            // The whole frame, top to bottom, one full-width band per message.
            messages = 0;
            const auto& f = frames[k % 2];
            for (int y = 0; y < h; y += band_rows) {
                const int rows = std::min(band_rows, h - y);
                peer.update(0, 0, y, w, rows, stride, FakeDisplaySession::xrgb,
                            std::span(f).subspan(std::size_t{stride} * static_cast<std::size_t>(y),
                                                 std::size_t{stride} * static_cast<std::size_t>(rows)));
                ++messages;
            }
        } else {
            // A new colour each time, at positions walking over the screen.
            const unsigned colour = static_cast<unsigned>(k * 0x10305) & 0xffffff;
            for (std::size_t i = 0; i < patch.size(); i += 4)
                test::put_xrgb(&patch[i], colour);
            const int cols = std::max(1, (w - rect) / rect), rows = std::max(1, (h - rect) / rect);
            const int x = static_cast<int>(k % static_cast<std::uint64_t>(cols)) * rect;
            const int y = static_cast<int>((k / static_cast<std::uint64_t>(cols)) % static_cast<std::uint64_t>(rows)) * rect;
            peer.update(0, x, y, rect, rect, rect * 4, FakeDisplaySession::xrgb, patch);
        }
        call_ms += ms_since(t);
        r.sent += messages; // messages, as the shell's `frames` counts them
    }
    const double stream_s = ms_since(start) / 1000.0;
    if (shell_pid > 0) {
        const double faults = static_cast<double>(minor_faults(shell_pid) - faults_steady);
        const double frames = static_cast<double>(ticks - warmup_ticks);
        r.shell_faults_per_frame = faults / std::max(frames, 1.0);
        r.shell_faults_per_message = faults / static_cast<double>(std::max<std::uint64_t>(r.sent - sent_steady, 1));
        r.shell_faults_per_s = faults / (ms_since(steady_from) / 1000.0);
        r.shell_faults_warmup = static_cast<double>(faults_steady - faults_at_start);
    }
    // The peer's cost ends when its queue is written out (its RSS is back), before any status
    // call forks phyllomectl from this thread.
    const auto flush_deadline = Clock::now() + 10s;
    while (own_rss_kb() > rss_base + static_cast<long>(frame_bytes / 1024) && Clock::now() < flush_deadline)
        pump_until_time(session, Clock::now() + 2ms);
    const double cpu_ms = thread_cpu_ms() - cpu_start;
    // Let the shell take in the rest, then commit the last frame.
    GuestStats after;
    r.drained = session.wait_stats([&](const GuestStats& s) { return s.frames >= before.frames + r.sent; }, 30s, &after);
    session.pump(200ms);
    if (auto s = session.stats())
        after = *s;

    r.received = after.frames - before.frames;
    r.presented = after.frames_presented - before.frames_presented;
    r.refused = after.refused - before.refused;
    r.present_p50_ms = after.present_p50_ms;
    r.present_p99_ms = after.present_p99_ms;
    const double received = static_cast<double>(std::max<std::uint64_t>(r.received, 1));
    r.copies_per_frame = static_cast<double>(after.copies - before.copies) / received;
    r.bytes_copied_per_frame = static_cast<double>(after.bytes_copied - before.bytes_copied) / received;
    r.shell_cpu_ms_per_presented = (after.cpu_ms - before.cpu_ms) / static_cast<double>(std::max<std::uint64_t>(r.presented, 1));
    r.shell_cpu_ms_per_received = (after.cpu_ms - before.cpu_ms) / received;
    r.shell_rss_kb = after.rss_kb;
    r.peer_send_call_ms = call_ms / static_cast<double>(std::max<std::uint64_t>(r.sent, 1));
    r.peer_cpu_ms_per_frame = cpu_ms / static_cast<double>(std::max<std::uint64_t>(r.sent, 1));
    r.achieved_rate = static_cast<double>(r.sent) / stream_s;
    if (!session.shell().running())
        r.error = "the shell died: " + session.shell().log();
    return r;
}

std::optional<double> json_number(const std::string& json, const std::string& key) {
    std::smatch m;
    const std::regex re("\"" + key + "\": (null|[-0-9.]+)");
    if (!std::regex_search(json, m, re) || m[1] == "null")
        return std::nullopt;
    return std::stod(m[1]);
}

} // namespace phyllome::bench
