// Issue 16, sound: the real shell plays the shown guest's sound through a real PipeWire (a
// private daemon with a null sink whose monitor pw-record hears), and nothing of a hidden guest.
// The guests are fake QEMU displays (tests/display/fake_qemu_audio.hpp) that write known tones as
// QEMU's dbus audiodev does: amber 440 Hz, teal 1250 Hz; the microphone (a pw-loopback source) hears
// 660 Hz, and the guest reads it through the AudioInListener.
#include <gtest/gtest.h>

#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <iostream>

#include <fmt/format.h>

#include "fake_display_session.hpp"
#include "loop_pump.hpp"
#include "pipewire_daemon.hpp"
#include "tests/display/fake_qemu_audio.hpp"
#include "two_fake_guests.hpp"

namespace phyllome::test {
namespace {

using namespace std::chrono_literals;
using guestview::testing::FakeQemuAudio;

constexpr double amber_hz = 440, teal_hz = 1250, mic_hz = 660;
constexpr int window_ms = 300;

// The shell's CPU time so far, from status --json.
double cpu_ms(const std::string& json) {
    const auto at = json.find("\"cpu_ms\": ");
    return at == std::string::npos ? 0 : std::stod(json.substr(at + 10));
}

class AudioTest : public ::testing::Test {
protected:
    void SetUp() override {
        if (const std::string missing = PipeWireDaemon::missing_programs(); !missing.empty())
            GTEST_SKIP() << missing;
        std::string tmpl = "/tmp/phyllome-audio-XXXXXX";
        ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
        dir_ = tmpl;
        loop_ = wl_event_loop_create();
        peers_ = listen_two_fake_guests(loop_, dir_);
        for (auto& [name, peer] : peers_)
            audio_[name] = std::make_unique<FakeQemuAudio>(loop_, *peer);
    }
    void TearDown() override {
        recorder_.reset();
        if (shell_) {
            EXPECT_TRUE(shell_->running()) << "the shell died: " << shell_->log();
            shell_.reset();
        }
        audio_.clear();
        peers_.clear();
        daemon_.reset();
        unsetenv("PIPEWIRE_RUNTIME_DIR");
        if (loop_)
            wl_event_loop_destroy(loop_);
        std::error_code ec;
        if (!dir_.empty())
            std::filesystem::remove_all(dir_, ec);
    }
    // The shell finds PipeWire where PIPEWIRE_RUNTIME_DIR says (its XDG_RUNTIME_DIR is its own).
    void start_shell(const std::string& pipewire_dir) {
        setenv("PIPEWIRE_RUNTIME_DIR", pipewire_dir.c_str(), 1);
        std::string error;
        // lock_client locks the screen when asked (the microphone goes off then).
        const std::string locker = "[lock]\ncommand = \"" + build_path("tests/integration/lock_client") + " --no-stdin\"\n";
        shell_ = start_shell_with_two_fake_guests(loop_, peers_, dir_, 0x202020, 0x404040, error, locker);
        ASSERT_TRUE(shell_) << error;
        ASSERT_TRUE(pump_until([&] {
            return audio_["amber"]->out_listener_connected() && audio_["teal"]->out_listener_connected();
        }, 10s)) << "the shell registered no AudioOutListener: " << shell_->log();
        EXPECT_EQ(audio_["amber"]->out_register_calls(), 1);
    }
    bool pump_until(const std::function<bool()>& done, std::chrono::milliseconds deadline) {
        return pump_loop_until(loop_, done, deadline);
    }
    std::string shown() {
        auto s = parse_guest_stats(shell_->status_json(), "amber");
        return s ? s->shown_guest : "";
    }
    // Pumps the peers (their tones) until the sink's newest window holds `hz` (or, with hz 0,
    // silence) and not `absent_hz`.
    bool hear(double hz, double absent_hz, std::string& heard) {
        const auto started = std::chrono::steady_clock::now();
        const bool done = pump_until([&] {
            const auto samples = recorder_->last(window_ms);
            if (samples.size() < std::size_t(SinkRecorder::rate) * window_ms / 1000)
                return false;
            const double present = hz > 0 ? tone_share(samples, hz) : 0, absent = tone_share(samples, absent_hz);
            heard = fmt::format("{} Hz: {:.3f}, {} Hz: {:.3f}, rms {:.0f} (newest {} ms of the sink's monitor)", hz,
                                present, absent_hz, absent, rms(samples), window_ms);
            if (hz == 0)
                return rms(samples) < 30;
            return present > 0.4 && absent < 0.02 && rms(samples) > 1000;
        }, 15s);
        const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
        std::cout << "heard after " << took.count() << " ms: " << heard << "\n"; // for the record, pass or fail
        return done;
    }

    std::string dir_;
    wl_event_loop* loop_ = nullptr;
    FakeGuests peers_;
    std::map<std::string, std::unique_ptr<FakeQemuAudio>> audio_;
    std::unique_ptr<PipeWireDaemon> daemon_;
    std::unique_ptr<ShellProcess> shell_;
    std::unique_ptr<SinkRecorder> recorder_;
};

TEST_F(AudioTest, TheShownGuestIsHeardAHiddenOneIsNotSwitchingSwapsThemAndPipeWireMayComeAndGo) {
    daemon_ = std::make_unique<PipeWireDaemon>();
    ASSERT_TRUE(daemon_->start()) << daemon_->error();
    recorder_ = std::make_unique<SinkRecorder>(*daemon_);
    start_shell(daemon_->runtime_dir());
    audio_["amber"]->start_tone(1, amber_hz);
    audio_["teal"]->start_tone(1, teal_hz);

    const std::string first = shown();
    ASSERT_TRUE(first == "amber" || first == "teal") << shell_->status_json();
    const std::string second = first == "amber" ? "teal" : "amber";
    const double first_hz = first == "amber" ? amber_hz : teal_hz, second_hz = first == "amber" ? teal_hz : amber_hz;
    std::string heard;
    EXPECT_TRUE(hear(first_hz, second_hz, heard)) << heard << "\n" << shell_->status_json() << shell_->log();
    const std::string json = shell_->status_json();
    EXPECT_NE(json.find(R"("audio": {"sound_server": true, "problem": null, "hidden": "mute", "playing": ")" + first + "\""),
              std::string::npos) << json;

    // What playing costs the shell: both guests write 44.1 kHz stereo, one is heard.
    const double cpu_before = cpu_ms(shell_->status_json());
    const auto wall_before = std::chrono::steady_clock::now();
    pump_loop(loop_, 2s);
    const double wall_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - wall_before).count();
    std::cout << "shell CPU while playing: " << 100 * (cpu_ms(shell_->status_json()) - cpu_before) / wall_ms
              << " % of a core\n";

    // Switching: the other guest is heard, the first one no longer.
    auto r = shell_->ctl({"show", second});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(hear(second_hz, first_hz, heard)) << heard << "\n" << shell_->status_json();

    // The guest mutes itself (SetVolume): silence, though it keeps writing.
    audio_[second]->set_volume(1, true, {255, 255});
    EXPECT_TRUE(hear(0, second_hz, heard)) << heard;
    audio_[second]->set_volume(1, false, {255, 255});
    EXPECT_TRUE(hear(second_hz, first_hz, heard)) << heard;

    // PipeWire goes away: the shell carries on and says so.
    recorder_.reset();
    daemon_->stop();
    EXPECT_TRUE(pump_until([&] { return shell_->status_json().find(R"("sound_server": false)") != std::string::npos; },
                           10s)) << shell_->status_json();
    EXPECT_TRUE(shell_->running()) << shell_->log();

    // It comes back: the shell connects again by itself and the shown guest is heard again.
    ASSERT_TRUE(daemon_->start()) << daemon_->error();
    EXPECT_TRUE(pump_until([&] { return shell_->status_json().find(R"("sound_server": true)") != std::string::npos; },
                           20s)) << shell_->status_json();
    recorder_ = std::make_unique<SinkRecorder>(*daemon_);
    EXPECT_TRUE(hear(second_hz, first_hz, heard)) << heard << "\n" << shell_->log();
}

TEST_F(AudioTest, WithoutASoundServerGuestsStillShowAndTheStatusSaysSo) {
    const std::string nowhere = dir_ + "/no-pipewire";
    std::filesystem::create_directory(nowhere);
    start_shell(nowhere);
    audio_["amber"]->start_tone(1, amber_hz);
    audio_["teal"]->start_tone(1, teal_hz);
    pump_loop(loop_, 500ms); // samples arrive and go nowhere
    const std::string json = shell_->status_json();
    EXPECT_NE(json.find(R"("audio": {"sound_server": false, "problem": "no sound server)"), std::string::npos) << json;
    EXPECT_NE(json.find(R"("view": "guest")"), std::string::npos) << json;
    const auto text = shell_->ctl({"status"});
    EXPECT_NE(text.out.find("Sound: no sound server"), std::string::npos) << text.out;
    EXPECT_TRUE(shell_->running()) << shell_->log();
}

// The red "Microphone on" tag in the top right corner of the 1280x800 output.
bool mic_tag_shown(const ShellProcess& shell) {
    auto shot = shell.screenshot();
    if (!shot)
        return false;
    const unsigned pixel = shot->pixel(1280 - 16 - 10, 16 + 17); // right of the text
    return ((pixel >> 16) & 0xff) > 0x90 && ((pixel >> 8) & 0xff) < 0x60;
}

TEST_F(AudioTest, HostMLetsTheShownGuestHearTheMicrophoneUntilASwitchOrTheLock) {
    daemon_ = std::make_unique<PipeWireDaemon>();
    ASSERT_TRUE(daemon_->start()) << daemon_->error();
    start_shell(daemon_->runtime_dir());
    const std::string first = shown();
    ASSERT_TRUE(first == "amber" || first == "teal") << shell_->status_json();
    const std::string second = first == "amber" ? "teal" : "amber";
    const auto microphone = daemon_->play_into_microphone(mic_hz, 60);
    EXPECT_EQ(audio_[first]->in_register_calls(), 0) << "the microphone is off until asked for";
    EXPECT_FALSE(mic_tag_shown(*shell_));

    auto r = shell_->wtype({"-P", "Control_R", "-k", "m", "-p", "Control_R"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    ASSERT_TRUE(pump_until([&] { return audio_[first]->in_listener_connected(); }, 10s)) << shell_->log();
    EXPECT_TRUE(pump_until([&] { return shell_->status_json().find("\"mic\": \"" + first + "\"") != std::string::npos; },
                           5s)) << shell_->status_json();
    EXPECT_TRUE(mic_tag_shown(*shell_));

    // QEMU reads synchronously on its main loop, here 20 ms at a time: every answer comes at
    // once and whole (silence while nothing is heard yet), and soon carries the tone played into
    // the microphone.
    audio_[first]->in_init(1);
    constexpr std::size_t chunk_frames = 882;
    auto read = audio_[first]->read(1, chunk_frames * 4);
    double slowest_ms = 0, share = 0;
    int reads = 0;
    const bool tone_heard = pump_until([&] {
        if (!read->answered)
            return false;
        ++reads;
        EXPECT_EQ(read->error, "");
        EXPECT_EQ(read->bytes, chunk_frames * 4);
        slowest_ms = std::max(slowest_ms, read->latency_ms);
        share = tone_share(read->left, mic_hz, 44100);
        const bool loud = rms(read->left) > 1000;
        read = audio_[first]->read(1, chunk_frames * 4);
        return share > 0.4 && loud;
    }, 10s);
    std::cout << "microphone: " << reads << " reads, slowest answer " << slowest_ms << " ms, " << mic_hz
              << " Hz share of the last " << share << "\n";
    EXPECT_TRUE(tone_heard) << "the guest did not hear the microphone's tone: " << share << "\n" << shell_->log();
    EXPECT_LT(slowest_ms, 100);
    EXPECT_EQ(audio_[second]->in_register_calls(), 0);

    // Another guest shown: the microphone goes off (its listener socket closes) and so does the tag.
    r = shell_->ctl({"show", second});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(pump_until([&] { return !audio_[first]->in_listener_connected(); }, 5s));
    EXPECT_NE(shell_->status_json().find(R"("mic": null)"), std::string::npos) << shell_->status_json();
    EXPECT_TRUE(pump_until([&] { return !mic_tag_shown(*shell_); }, 5s));
    EXPECT_EQ(audio_[second]->in_register_calls(), 0);

    // On for the second guest, then the screen locks: off again, nobody is there to know.
    r = shell_->wtype({"-P", "Control_R", "-k", "m", "-p", "Control_R"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    ASSERT_TRUE(pump_until([&] { return audio_[second]->in_listener_connected(); }, 10s)) << shell_->log();
    r = shell_->ctl({"lock"});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err << shell_->log();
    EXPECT_TRUE(pump_until([&] { return !audio_[second]->in_listener_connected(); }, 5s));
    EXPECT_NE(shell_->status_json().find(R"("mic": null)"), std::string::npos) << shell_->status_json();
}

} // namespace
} // namespace phyllome::test
