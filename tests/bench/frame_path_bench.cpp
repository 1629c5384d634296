// Frame path benchmark: the real shell (headless, pixman) showing a fake QEMU display that
// streams full Scanouts, 256x256 Updates or whole frames as QEMU 7.2's copy path sends them
// (Scanouts and Updates mixed) at a fixed rate, per screen size. Prints what the
// shell reports (present latency, frames presented, copies, CPU) next to the peer's own send
// cost and a plain memcpy of the same bytes, the physical floor of one copy.
//
//   frame_path_bench [--quick] [--seconds S] [--rate N] [--size WxH]... [--json FILE]
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "bench_phase.hpp"
#include "shell_process.hpp"

namespace {

using phyllome::bench::PhaseResult;
using phyllome::bench::PhaseSpec;
using phyllome::bench::Stream;

std::string opt_ms(const std::optional<double>& v) { return v ? fmt::format("{:.2f}", *v) : "-"; }
std::string json_ms(const std::optional<double>& v) { return v ? fmt::format("{:.3f}", *v) : "null"; }
std::string json_num(double v, int decimals) { return std::isnan(v) ? "null" : fmt::format("{:.{}f}", v, decimals); }

std::string json_string(const std::string& text) {
    std::string o = "\"";
    for (char c : text) {
        if (c == '"' || c == '\\')
            o += '\\';
        if (static_cast<unsigned char>(c) >= 0x20)
            o += c;
        else
            o += ' ';
    }
    return o + "\"";
}

std::string stream_name(Stream s) {
    return s == Stream::Scanout ? "scanout" : s == Stream::Update ? "update256" : s == Stream::Mixed ? "qemu72" : "map";
}

void print_table(const std::vector<PhaseResult>& results) {
    std::puts("size       stream     sent  recv  pres  p50ms  p99ms  copies/f  copiedKB/f  shellCPU ms/pres  "
              "faults/f  peer call ms  peer CPU ms/f  memcpy ms  skipped");
    for (const auto& r : results) {
        const std::string size = fmt::format("{}x{}", r.spec.width, r.spec.height);
        if (!r.error.empty()) {
            fmt::print("{:<10} {:<9}  error: {}\n", size, stream_name(r.spec.stream), r.error.substr(0, 200));
            continue;
        }
        fmt::print("{:<10} {:<9} {:>5} {:>5} {:>5} {:>6} {:>6} {:>9.3f} {:>11.1f} {:>17.3f} {:>9.1f} {:>13.3f} "
                   "{:>14.3f} {:>10.3f} {:>8}{}\n",
                   size, stream_name(r.spec.stream), r.sent, r.received, r.presented, opt_ms(r.present_p50_ms),
                   opt_ms(r.present_p99_ms), r.copies_per_frame, r.bytes_copied_per_frame / 1024.0,
                   r.shell_cpu_ms_per_presented, r.shell_faults_per_frame, r.peer_send_call_ms,
                   r.peer_cpu_ms_per_frame, r.memcpy_ms, r.skipped,
                   r.drained ? "" : "  (not drained)");
    }
}

std::string to_json(const std::vector<PhaseResult>& results) {
    std::string o = "[\n";
    for (std::size_t i = 0; i < results.size(); ++i) {
        const auto& r = results[i];
        o += fmt::format(
            "  {{\"width\": {}, \"height\": {}, \"stream\": \"{}\", \"rate\": {}, \"seconds\": {}, \"error\": {}, "
            "\"sent\": {}, \"skipped\": {}, \"received\": {}, \"presented\": {}, \"refused\": {}, \"drained\": {}, "
            "\"present_p50_ms\": {}, \"present_p99_ms\": {}, \"copies_per_frame\": {:.4f}, "
            "\"bytes_copied_per_frame\": {:.1f}, \"payload_bytes\": {}, \"shell_cpu_ms_per_presented\": {:.4f}, "
            "\"shell_cpu_ms_per_received\": {:.4f}, \"shell_rss_kb\": {}, \"peer_send_call_ms\": {:.4f}, "
            "\"peer_cpu_ms_per_frame\": {:.4f}, \"memcpy_ms\": {:.4f}, \"achieved_rate\": {:.2f}, "
            "\"shell_faults_per_frame\": {}, \"shell_faults_per_message\": {}, "
            "\"shell_faults_per_s\": {}, \"shell_faults_warmup\": {}}}{}\n",
            r.spec.width, r.spec.height, stream_name(r.spec.stream), r.spec.rate, r.spec.seconds,
            r.error.empty() ? "null" : json_string(r.error), r.sent, r.skipped,
            r.received, r.presented, r.refused, r.drained ? "true" : "false", json_ms(r.present_p50_ms),
            json_ms(r.present_p99_ms), r.copies_per_frame, r.bytes_copied_per_frame, r.payload_bytes,
            r.shell_cpu_ms_per_presented, r.shell_cpu_ms_per_received, r.shell_rss_kb, r.peer_send_call_ms,
            r.peer_cpu_ms_per_frame, r.memcpy_ms, r.achieved_rate, json_num(r.shell_faults_per_frame, 2),
            json_num(r.shell_faults_per_message, 2), json_num(r.shell_faults_per_s, 1),
            json_num(r.shell_faults_warmup, 0),
            i + 1 < results.size() ? "," : "");
    }
    return o + "]\n";
}

int usage() {
    std::fputs("usage: frame_path_bench [--quick] [--seconds S] [--rate N] [--size WxH]... [--json FILE]\n", stderr);
    return 2;
}

} // namespace

int main(int argc, char** argv) {
    double seconds = 20;
    int rate = 60;
    std::string json_path;
    std::vector<std::pair<int, int>> sizes;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        const bool has_value = i + 1 < argc;
        if (a == "--quick")
            seconds = 5;
        else if (a == "--seconds" && has_value)
            seconds = std::atof(argv[++i]);
        else if (a == "--rate" && has_value)
            rate = std::atoi(argv[++i]);
        else if (a == "--json" && has_value)
            json_path = argv[++i];
        else if (a == "--size" && has_value) {
            int w = 0, h = 0;
            if (std::sscanf(argv[++i], "%dx%d", &w, &h) != 2 || w <= 0 || h <= 0)
                return usage();
            sizes.emplace_back(w, h);
        } else
            return usage();
    }
    if (seconds <= 0 || rate <= 0)
        return usage();
    if (sizes.empty())
        sizes = {{1280, 800}, {1920, 1080}, {3840, 2160}};
    if (!std::getenv("PHYLLOME_BUILD_ROOT")) {
        std::fputs("frame_path_bench: set PHYLLOME_BUILD_ROOT to the meson build directory (tests/bench/run does)\n",
                   stderr);
        return 2;
    }

    std::vector<PhaseResult> results;
    for (auto [w, h] : sizes)
        for (Stream s : {Stream::Scanout, Stream::Update, Stream::Mixed}) {
            fmt::print(stderr, "{}x{} {} at {}/s for {} s...\n", w, h, stream_name(s), rate, seconds);
            results.push_back(phyllome::bench::run_phase(PhaseSpec{w, h, s, rate, seconds}));
        }
    fmt::print("frame path: phyllome-shell (headless, pixman) <- fake QEMU display, {}/s for {} s per row\n", rate,
               seconds);
    print_table(results);
    std::puts("\nrecv: accepted by the shell; pres: output commits showing a new frame (60 Hz output);\n"
              "p50/p99: frame received by the shell -> output commit; copies/f, copiedKB/f: guestview memcpy per\n"
              "received frame; shellCPU: shell CPU per presented frame; peer call/CPU: the fake QEMU's send;\n"
              "faults/f: the shell's minor page faults per frame of the stream after its first two seconds;\n"
              "memcpy: one plain memcpy of the message's pixels (full frame, 256x256, or one 250-row band).");
    if (!json_path.empty()) {
        std::ofstream(json_path) << to_json(results);
        fmt::print("\nwrote {}\n", json_path);
    }
    for (const auto& r : results)
        if (!r.error.empty() || !r.drained)
            return 1;
    return 0;
}
