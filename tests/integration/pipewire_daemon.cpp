#include "pipewire_daemon.hpp"

#include <stdlib.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <numbers>

#include "shell_process.hpp"

namespace phyllome::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::string source_path(const std::string& relative) {
    const char* root = std::getenv("PHYLLOME_SOURCE_ROOT");
    return std::string(root ? root : ".") + "/" + relative;
}

} // namespace

PipeWireDaemon::PipeWireDaemon() {
    char tmpl[] = "/tmp/phyllome-pw-XXXXXX";
    dir_ = mkdtemp(tmpl);
    runtime_dir_ = dir_ + "/run";
    for (const char* d : {"/run", "/config", "/state"})
        fs::create_directory(dir_ + d);
    fs::permissions(runtime_dir_, fs::perms::owner_all, fs::perm_options::replace);
}

PipeWireDaemon::~PipeWireDaemon() {
    stop();
    std::error_code ec;
    fs::remove_all(dir_, ec);
}

std::string PipeWireDaemon::missing_programs() {
    std::string missing;
    for (const char* program : {"pipewire", "wireplumber", "pw-record", "pw-cli", "pw-loopback", "pw-cat"})
        if (!have_program(program))
            missing += (missing.empty() ? "" : ", ") + std::string(program);
    return missing.empty() ? "" : missing + " not installed (packages pipewire, wireplumber, pipewire-bin)";
}

std::vector<std::string> PipeWireDaemon::client_env() const {
    return {"XDG_RUNTIME_DIR=" + runtime_dir_, "PIPEWIRE_RUNTIME_DIR=" + runtime_dir_,
            "XDG_CONFIG_HOME=" + dir_ + "/config", "XDG_STATE_HOME=" + dir_ + "/state",
            // No session bus: WirePlumber's D-Bus parts are optional and must not reach the user's.
            "DBUS_SESSION_BUS_ADDRESS=disabled:"};
}

bool PipeWireDaemon::start() {
    const auto env = client_env();
    pipewire_ = std::make_unique<bench::ChildProcess>(
        std::vector<std::string>{"pipewire", "-c", source_path("tests/audio/pipewire-test.conf")}, env,
        dir_ + "/pipewire.log");
    if (!wait_until([&] { return fs::exists(runtime_dir_ + "/pipewire-0") || !pipewire_->running(); }, 10s) ||
        !pipewire_->running()) {
        error_ = "pipewire did not start (log in " + dir_ + "/pipewire.log)";
        return false;
    }
    wireplumber_ = std::make_unique<bench::ChildProcess>(std::vector<std::string>{"wireplumber"}, env,
                                                         dir_ + "/wireplumber.log");
    // The microphone: a sink to play into, looped back to a source that outranks the sink's monitor.
    microphone_ = std::make_unique<bench::ChildProcess>(
        std::vector<std::string>{"pw-loopback", "-n", "phyllome-test-mic",
                                 "--capture-props=media.class=Audio/Sink node.name=phyllome-test-mic-in "
                                 "audio.position=[FL FR]",
                                 "--playback-props=media.class=Audio/Source node.name=phyllome-test-mic "
                                 "audio.position=[FL FR] priority.session=3000"},
        env, dir_ + "/loopback.log");
    const bool nodes = wait_until(
        [&] {
            auto r = run_command({"pw-cli", "ls", "Node"}, env, 5s);
            return r.out.find("phyllome-test-sink") != std::string::npos &&
                   r.out.find("\"phyllome-test-mic\"") != std::string::npos;
        },
        10s);
    if (!nodes || !wireplumber_->running()) {
        error_ = "the test sink or microphone did not appear, or wireplumber died (logs in " + dir_ + ")";
        return false;
    }
    return true;
}

void PipeWireDaemon::stop() {
    if (microphone_)
        microphone_->stop();
    microphone_.reset();
    if (wireplumber_)
        wireplumber_->stop();
    if (pipewire_)
        pipewire_->stop();
    wireplumber_.reset();
    pipewire_.reset();
}

std::unique_ptr<bench::ChildProcess> PipeWireDaemon::play_into_microphone(double hz, int seconds) const {
    // A 48 kHz 16-bit stereo WAV: the 44-byte header, then the samples.
    const std::string path = dir_ + "/microphone-tone.wav";
    const std::uint32_t rate = 48000, frames = rate * static_cast<std::uint32_t>(seconds), bytes = frames * 4;
    std::ofstream f(path, std::ios::binary);
    auto u32 = [&](std::uint32_t v) { f.write(reinterpret_cast<const char*>(&v), 4); };
    auto u16 = [&](std::uint16_t v) { f.write(reinterpret_cast<const char*>(&v), 2); };
    f.write("RIFF", 4);
    u32(36 + bytes);
    f.write("WAVEfmt ", 8);
    u32(16);
    u16(1); // PCM
    u16(2);
    u32(rate);
    u32(rate * 4);
    u16(4);
    u16(16);
    f.write("data", 4);
    u32(bytes);
    for (std::uint32_t i = 0; i < frames; ++i) {
        const auto v = static_cast<std::int16_t>(std::lround(10000 * std::sin(2 * std::numbers::pi * hz * i / rate)));
        u16(static_cast<std::uint16_t>(v));
        u16(static_cast<std::uint16_t>(v));
    }
    f.close();
    return std::make_unique<bench::ChildProcess>(
        std::vector<std::string>{"pw-cat", "--playback", "--target", "phyllome-test-mic-in", path}, client_env(),
        dir_ + "/microphone-tone.log");
}

SinkRecorder::SinkRecorder(const PipeWireDaemon& daemon) {
    path_ = daemon.runtime_dir() + "/../sink-monitor.wav";
    std::error_code ec;
    fs::remove(path_, ec); // an earlier recorder's samples must not pass for this one's
    record_ = std::make_unique<bench::ChildProcess>(
        std::vector<std::string>{"pw-record", "-P", "{ stream.capture.sink = true }", "--target", "phyllome-test-sink",
                                 "--rate", std::to_string(rate), "--channels", "1", "--format", "s16", path_},
        daemon.client_env(), path_ + ".log");
}

SinkRecorder::~SinkRecorder() { record_->stop(); }

std::vector<std::int16_t> SinkRecorder::last(int ms) const {
    std::ifstream f(path_, std::ios::binary);
    const std::string bytes{std::istreambuf_iterator<char>(f), {}};
    // The samples follow the "data" chunk's header; its size is only written when pw-record ends.
    const auto at = bytes.find("data");
    if (at == std::string::npos || at > 512)
        return {};
    std::size_t begin = at + 8;
    const std::size_t count = (bytes.size() - begin) / 2;
    const std::size_t want = std::size_t(rate) * ms / 1000;
    const std::size_t first = count > want ? count - want : 0;
    if (count == first)
        return {}; // nothing recorded yet (memcpy must not get a null pointer)
    std::vector<std::int16_t> samples(count - first);
    std::memcpy(samples.data(), bytes.data() + begin + first * 2, samples.size() * 2);
    return samples;
}

double tone_share(std::span<const std::int16_t> samples, double hz, int rate) {
    const std::size_t n = samples.size();
    if (n < 2)
        return 0;
    const double coeff = 2 * std::cos(2 * std::numbers::pi * hz / rate);
    double s1 = 0, s2 = 0, energy = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const double w = 0.5 - 0.5 * std::cos(2 * std::numbers::pi * double(i) / double(n - 1));
        const double v = samples[i] * w;
        energy += v * v;
        const double s = v + coeff * s1 - s2;
        s2 = s1;
        s1 = s;
    }
    if (energy <= 0)
        return 0;
    const double power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
    // A Hann-windowed sine on a bin: power = (A n / 4)^2 and energy = A^2 / 2 * 3n / 8, so 1.
    return power / (energy * double(n) / 3.0);
}

double rms(std::span<const std::int16_t> samples) {
    if (samples.empty())
        return 0;
    double sum = 0;
    for (std::int16_t v : samples)
        sum += double(v) * v;
    return std::sqrt(sum / double(samples.size()));
}

} // namespace phyllome::test
