// A private PipeWire for the audio tests: pipewire (tests/audio/pipewire-test.conf: a null sink,
// a dummy driver, no D-Bus), WirePlumber (which links streams) and pw-loopback (a microphone:
// what is played into "phyllome-test-mic-in" comes out of the default source) in a runtime
// folder of their own; and pw-record hearing the sink's monitor. Nothing of the user's session
// is touched: the shell finds this server through PIPEWIRE_RUNTIME_DIR.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "tests/bench/child_process.hpp"

namespace phyllome::test {

class PipeWireDaemon {
public:
    PipeWireDaemon();
    ~PipeWireDaemon();
    PipeWireDaemon(const PipeWireDaemon&) = delete;
    PipeWireDaemon& operator=(const PipeWireDaemon&) = delete;

    // Empty when pipewire, wireplumber, pw-record, pw-loopback and pw-cat are all installed; else
    // what is missing.
    static std::string missing_programs();
    // Starts both and waits for the sink; false with error() on failure.
    bool start();
    // Ends both (the sound server goes away).
    void stop();
    const std::string& error() const { return error_; }
    const std::string& runtime_dir() const { return runtime_dir_; }
    // What a client of this server needs in its environment.
    std::vector<std::string> client_env() const;
    // Plays a sine of `hz` into the microphone for `seconds`; ends with the returned process.
    std::unique_ptr<bench::ChildProcess> play_into_microphone(double hz, int seconds) const;

private:
    std::string dir_, runtime_dir_, error_;
    std::unique_ptr<bench::ChildProcess> pipewire_, wireplumber_, microphone_;
};

// pw-record of the test sink's monitor: 48 kHz, mono, 16-bit, into a WAV file it keeps growing.
class SinkRecorder {
public:
    explicit SinkRecorder(const PipeWireDaemon& daemon);
    ~SinkRecorder();
    // The newest `ms` of what the sink played (fewer samples until that much is recorded).
    std::vector<std::int16_t> last(int ms) const;
    static constexpr int rate = 48000;

private:
    std::string path_;
    std::unique_ptr<bench::ChildProcess> record_;
};

// The share of `samples`' energy at `hz` (Goertzel over a Hann window, scaled so a pure tone on
// a bin gives about 1, halfway between bins about 0.7). 0 for silence.
double tone_share(std::span<const std::int16_t> samples, double hz, int rate = SinkRecorder::rate);
// Root mean square of the samples (full scale 32768).
double rms(std::span<const std::int16_t> samples);

} // namespace phyllome::test
