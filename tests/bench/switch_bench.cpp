// Switching, measured by the shell itself (see switch_bench.hpp).
#include "switch_bench.hpp"

#include <cmath>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "bench_phase.hpp"
#include "bench_util.hpp"
#include "fake_display_session.hpp"
#include "peer_host.hpp"
#include "proc_sample.hpp"
#include "shell_process.hpp"

namespace phyllome::bench {

using namespace std::chrono_literals;
using phyllome::test::ShellProcess;
using Clock = std::chrono::steady_clock;

void switching(Results& r, const std::string& suffix) {
    const int switches = 200;
    const int rate = 30;
    PeerHost peers({{"alpha", 1280, 800, rate}, {"beta", 1280, 800, rate}});
    ShellProcess::Options o;
    o.config_toml = output_config(1280, 800);
    o.extra_args = peers.display_args();
    ShellProcess shell(o);
    const StopPeersFirst stop_peers(peers); // they stream until the end of the phase
    if (!shell.started()) {
        r.notes.push_back("switch" + suffix + ": the shell did not start: " + shell.log().substr(0, 300));
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
        r.notes.push_back("switch" + suffix + ": the two guests did not attach: " + shell.status_json().substr(0, 300));
        return;
    }
    fmt::print(stderr, "switch{}: {} switches between two 1280x800 guests streaming {}/s each...\n", suffix, switches, rate);
    peers.set_streaming(true);
    std::this_thread::sleep_for(300ms);
    std::vector<double> samples, round_trips;
    std::string json = shell.status_json();
    // The shell's page faults over the switches, per second and per frame it received.
    const int pid = phyllome::bench::find_pid_by_arg(shell.config_path());
    const auto frames_received = [](const std::string& status) {
        auto a = phyllome::test::parse_guest_stats(status, "alpha"), b = phyllome::test::parse_guest_stats(status, "beta");
        return a && b ? static_cast<double>(a->frames + b->frames) : NAN;
    };
    const double frames0 = frames_received(json);
    const auto faults0 = phyllome::bench::minor_faults(pid);
    const auto window0 = Clock::now();
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
    const double window_s = ms_between(window0, Clock::now()) / 1000.0;
    const double faults = static_cast<double>(phyllome::bench::minor_faults(pid) - faults0);
    const std::string end_status = shell.status_json();
    const double frames = frames_received(end_status) - frames0;
    // Frames received -> on screen, for the guest shown at the end (the shell keeps the last
    // 256): with the switches and, in the loaded run, every core busy.
    const auto shown = phyllome::test::parse_guest_stats(end_status, current);
    if (shown && shown->present_p99_ms)
        r.set("switch_update_present_p99_ms" + suffix, *shown->present_p99_ms);
    peers.set_streaming(false);
    if (pid > 0) {
        r.set("switch_shell_faults_per_s" + suffix, faults / window_s);
        r.set("switch_shell_faults_per_frame" + suffix, frames > 0 ? faults / frames : NAN);
    }
    if (const auto e = peers.errors(); !e.empty())
        r.notes.push_back("switch" + suffix + ": a peer stopped streaming: " + e.substr(0, 300));
    if (failures)
        r.notes.push_back(fmt::format("switch{}: {} of {} switches gave no new last_switch_ms within 1 s", suffix, failures,
                                      switches));
    r.set("switch_p50_ms" + suffix, percentile(samples, 50));
    r.set("switch_p99_ms" + suffix, percentile(samples, 99));
    r.set("switch_max_ms" + suffix, percentile(samples, 100));
    r.set("switch_count" + suffix, static_cast<double>(samples.size()));
    r.set("switch_ctl_round_trip_p50_ms" + suffix, percentile(round_trips, 50));
    if (peers.skipped())
        r.notes.push_back(fmt::format("switch{}: the peers skipped {} frames (the shell fell behind)", suffix, peers.skipped()));
}

} // namespace phyllome::bench
