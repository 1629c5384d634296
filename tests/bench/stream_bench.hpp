// Side by side on a real guest stream (issue 6): the animated test guest streams to three
// consumers in turn, each for the same window: our bare drain listener (the floor of QEMU
// 7.2's copy path), phyllome-shell showing the guest on a 60 Hz 1280x800 output, and
// remote-viewer on the guest's SPICE server under Xvfb. Measures each consumer's CPU, QEMU's
// CPU and update messages, the guest's own frame rate and the shell's presented frame rate.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace phyllome::bench {

struct StreamBenchSpec {
    double seconds = 20; // each consumer's measured window
    double warmup = 3;   // after the consumer gets its first frame, before the window
    int guest_fps = 50;
    int guest_band_rows = 32;
};

struct StreamBenchResult {
    std::vector<std::pair<std::string, double>> values; // flat JSON keys
    std::vector<std::string> notes;
    std::string skipped; // non-empty: nothing was measured, and why
};

// Needs PHYLLOME_BUILD_ROOT (drain_listener, the shell) and PHYLLOME_SOURCE_ROOT
// (scripts/build-bench-guest).
StreamBenchResult run_stream_bench(const StreamBenchSpec& spec);

} // namespace phyllome::bench
