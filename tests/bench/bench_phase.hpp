// One benchmark phase: a fresh shell showing the fake display at one size, fed full-frame
// Scanouts or 256x256 Updates at a fixed rate, or full-frame UpdateMaps over a shared memfd
// (the ScanoutMap path QEMU 8+ uses; QEMU 7.2 never sends it), measured from both ends.
#pragma once

#include <cmath>
#include <cstdint>
#include <optional>
#include <string>

namespace phyllome::bench {

// Mixed: QEMU 7.2's copy path under a guest that redraws its whole screen, as the real stream
// (tests/bench/guest) sends it: a damaged rectangle covering the whole surface goes out as a
// Scanout, a partial one as an Update, whose pixels the shell copies into its own buffer. Per
// tick: every third frame one Scanout, the others in full-width Updates of band_rows rows
// (the test machine's stream: 16 Scanouts and 78 Updates of ~250 rows a second at 50 frames/s).
enum class Stream { Scanout, Update, Map, Mixed };
inline constexpr int band_rows = 250;

struct PhaseSpec {
    int width = 1280, height = 800;
    Stream stream = Stream::Scanout;
    int rate = 60;       // messages per second (Mixed: whole frames per second)
    double seconds = 5;  // streaming time
};

struct PhaseResult {
    PhaseSpec spec;
    std::string error; // non-empty: the phase could not run; the numbers are meaningless
    std::uint64_t sent = 0;
    std::uint64_t skipped = 0;   // ticks not sent because the peer's own send queue was full
    std::uint64_t received = 0;  // accepted by the shell (status "frames")
    std::uint64_t presented = 0; // output commits that showed a new frame
    std::uint64_t refused = 0;
    bool drained = true;         // the shell had received everything within the drain deadline
    std::optional<double> present_p50_ms, present_p99_ms;
    double copies_per_frame = 0;       // memcpy passes per received frame
    double bytes_copied_per_frame = 0; // shell-side copies
    std::uint64_t payload_bytes = 0;   // pixel bytes of one message
    double shell_cpu_ms_per_presented = 0;
    double shell_cpu_ms_per_received = 0;
    long shell_rss_kb = 0;
    // The shell's minor page faults (/proc/PID/stat): fresh memory it maps and touches. In the
    // steady state, from two seconds into the stream (at most half of it) to its end (per frame
    // of the stream, per message, per second; NAN when its pid was not found), and before that,
    // while its heap grows to the stream's working set.
    double shell_faults_per_frame = NAN;
    double shell_faults_per_message = NAN;
    double shell_faults_per_s = NAN;
    double shell_faults_warmup = NAN;
    double peer_send_call_ms = 0;  // mean wall time of one scanout()/update() call (build + first write)
    double peer_cpu_ms_per_frame = 0; // the bench thread's CPU per sent frame: build, copy into the message, write
    double memcpy_ms = 0;          // one memcpy of the payload: the physical floor of a copy
    double achieved_rate = 0;      // messages sent per second of streaming
};

PhaseResult run_phase(const PhaseSpec& spec);

// A number from the shell's `status --json` (or another flat JSON object); nullopt when the key
// is missing or null.
std::optional<double> json_number(const std::string& json, const std::string& key);

} // namespace phyllome::bench
