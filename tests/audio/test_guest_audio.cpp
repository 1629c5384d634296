// GuestAudio against the fake QEMU peer (FakeQemuDisplay + FakeQemuAudio), all on one loop, with
// a PipeWirePlayer that finds no sound server: the D-Bus side (registration, the QEMU 7.2 guard,
// refused calls, the microphone's Read answered at once) without PipeWire. The sound itself is
// heard in tests/integration/audio_test.cpp.
#include <gtest/gtest.h>

#include <stdlib.h>

#include <filesystem>

#include "guestview/audio/guest_audio.hpp"
#include "guestview/display/display_connection.hpp"
#include "tests/display/fake_qemu_audio.hpp"
#include "tests/display/fake_qemu_display.hpp"
#include "tests/display/loop_runner.hpp"

namespace phyllome::guestview {
namespace {

using testing::FakeConsoleConfig;
using testing::FakeQemuAudio;
using testing::FakeQemuDisplay;
using testing::LoopRunner;

class GuestAudioTest : public ::testing::Test {
protected:
    void SetUp() override {
        std::string tmpl = "/tmp/phyllome-no-pipewire-XXXXXX";
        ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
        nowhere_ = tmpl;
        setenv("PIPEWIRE_RUNTIME_DIR", nowhere_.c_str(), 1);
        player_ = std::make_unique<PipeWirePlayer>(runner.loop(), [] {});
    }
    void TearDown() override {
        audio_.reset();
        display_.reset();
        fake_audio_.reset();
        fake_.reset();
        player_.reset();
        unsetenv("PIPEWIRE_RUNTIME_DIR");
        std::error_code ec;
        std::filesystem::remove_all(nowhere_, ec);
    }
    void connect(bool lists_interfaces = true) {
        FakeConsoleConfig console;
        console.lists_interfaces = lists_interfaces;
        fake_ = std::make_unique<FakeQemuDisplay>(runner.loop(), "test-vm", std::vector{console});
        fake_audio_ = std::make_unique<FakeQemuAudio>(runner.loop(), *fake_);
        std::string error;
        display_ = DisplayConnection::from_fd(runner.loop(), fake_->client_socket(), "test-guest", {}, error);
        ASSERT_TRUE(display_) << error;
        ASSERT_TRUE(runner.run_until([&] {
            const ConsoleInfo* info = display_->console(0);
            return info && !info->type.empty() && fake_->register_calls() > 0;
        }));
        audio_ = std::make_unique<GuestAudio>(runner.loop(), *player_, *display_, "test-guest", true, [] {});
    }

    LoopRunner runner;
    std::string nowhere_;
    std::unique_ptr<PipeWirePlayer> player_;
    std::unique_ptr<FakeQemuDisplay> fake_;
    std::unique_ptr<FakeQemuAudio> fake_audio_;
    std::unique_ptr<DisplayConnection> display_;
    std::unique_ptr<GuestAudio> audio_;
};

TEST_F(GuestAudioTest, RegistersItsListenerAndTakesSamplesWithoutASoundServer) {
    connect();
    EXPECT_FALSE(player_->connected());
    EXPECT_EQ(player_->problem(), "") << "PipeWire is only asked once a guest has a voice";
    ASSERT_TRUE(runner.run_until([&] { return audio_->status().state == "playing"; })) << audio_->status().state;
    EXPECT_EQ(fake_audio_->out_register_calls(), 1);
    fake_audio_->init(1, 16, true, false, 44100, 2);
    std::vector<std::uint8_t> samples(441 * 4, 1);
    fake_audio_->write(1, samples);
    EXPECT_TRUE(runner.run_until([&] { return audio_->status().bytes_received == samples.size(); }));
    EXPECT_EQ(audio_->status().voices, 1u);
    EXPECT_FALSE(player_->connected());
    EXPECT_NE(player_->problem().find("no sound server"), std::string::npos) << player_->problem();
}

TEST_F(GuestAudioTest, RefusesFormatsItCannotPlayAndUnknownVoices) {
    connect();
    ASSERT_TRUE(runner.run_until([&] { return audio_->status().state == "playing"; }));
    fake_audio_->init(1, 24, true, false, 44100, 2);  // 24-bit: refused
    fake_audio_->init(2, 16, true, false, 44100, 40); // 40 channels: refused
    std::vector<std::uint8_t> samples(64, 1);
    fake_audio_->write(7, samples); // never announced
    fake_audio_->init(3, 16, true, false, 48000, 1);
    fake_audio_->write(3, samples);
    // Handled in order on one connection: once voice 3's samples are in, the rest was refused.
    ASSERT_TRUE(runner.run_until([&] { return audio_->status().bytes_received == samples.size(); }));
    EXPECT_EQ(audio_->status().voices, 1u);
    EXPECT_TRUE(fake_audio_->out_listener_connected()) << "a bad call must not cost the connection";
}

TEST_F(GuestAudioTest, AQemuWithoutInterfacesIsNotAskedForSound) {
    connect(false); // like QEMU 7.2, which crashes on RegisterOutListener in p2p mode
    EXPECT_EQ(audio_->status().state, "unsupported");
    EXPECT_EQ(fake_audio_->out_register_calls(), 0);
}

TEST_F(GuestAudioTest, TheMicrophoneRegistersOnlyWhenOnAndAnswersReadsAtOnce) {
    connect();
    ASSERT_TRUE(runner.run_until([&] { return audio_->status().state == "playing"; }));
    EXPECT_EQ(fake_audio_->in_register_calls(), 0);
    audio_->set_microphone(true, display_.get());
    ASSERT_TRUE(runner.run_until([&] { return audio_->status().mic == "live"; })) << audio_->status().mic;
    ASSERT_TRUE(fake_audio_->in_listener_connected());
    fake_audio_->in_init(1);
    auto read = fake_audio_->read(1, 441 * 4);
    ASSERT_TRUE(runner.run_until([&] { return read->answered; }));
    EXPECT_EQ(read->error, "");
    EXPECT_EQ(read->bytes, 441u * 4); // silence: nothing is heard without a sound server
    auto too_much = fake_audio_->read(1, 44100 * 4 * 2);
    ASSERT_TRUE(runner.run_until([&] { return too_much->answered; }));
    EXPECT_EQ(too_much->error, "org.qemu.Display1.Error.Invalid");
    audio_->set_microphone(false, nullptr);
    EXPECT_TRUE(runner.run_until([&] { return !fake_audio_->in_listener_connected(); }));
    EXPECT_EQ(audio_->status().mic, "off");
}

TEST(PcmFormat, ChecksWhatPipeWireCanPlay) {
    EXPECT_EQ(pcm_format_problem({16, true, false, 44100, 2, 4, false}), "");
    EXPECT_EQ(pcm_format_problem({32, true, true, 48000, 8, 32, true}), "");
    EXPECT_NE(pcm_format_problem({24, true, false, 44100, 2, 6, false}), "");
    EXPECT_NE(pcm_format_problem({16, true, false, 44100, 0, 0, false}), "");
    EXPECT_NE(pcm_format_problem({16, true, false, 1000, 2, 4, false}), "");
    EXPECT_NE(pcm_format_problem({16, true, false, 44100, 2, 8, false}), ""); // padded frames
    std::vector<std::uint8_t> quiet(4, 0xaa);
    silence({16, false, false, 44100, 2, 4, false}, quiet);
    EXPECT_EQ(quiet, (std::vector<std::uint8_t>{0x00, 0x80, 0x00, 0x80}));
}

} // namespace
} // namespace phyllome::guestview
