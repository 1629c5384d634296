// QEMU's D-Bus audio for the fake display peer (fake_qemu_display.hpp): the Audio object on the
// main connection, and the calls QEMU makes on a registered AudioOutListener, including a tone
// written in real time as QEMU's dbus audiodev writes a playing guest's samples.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "tests/display/fake_qemu_display.hpp"

namespace phyllome::guestview::testing {

// The answer to an AudioInListener.Read, once it came.
struct ReadOutcome {
    bool answered = false;
    std::string error;
    std::size_t bytes = 0;
    std::vector<std::int16_t> left; // the first channel's samples (16-bit stereo voices)
    double latency_ms = 0; // call to answer
};

class FakeQemuAudio {
public:
    // Exports /org/qemu/Display1/Audio on every connection `display` serves from now on.
    FakeQemuAudio(wl_event_loop* loop, FakeQemuDisplay& display);
    ~FakeQemuAudio();
    FakeQemuAudio(const FakeQemuAudio&) = delete;
    FakeQemuAudio& operator=(const FakeQemuAudio&) = delete;

    int out_register_calls() const { return out_register_calls_; }
    bool out_listener_connected() const;
    int in_register_calls() const { return in_register_calls_; }
    bool in_listener_connected() const;

    // The microphone (AudioInListener): Init of a 16-bit stereo voice, then QEMU's Read.
    void in_init(std::uint64_t voice, std::uint32_t rate = 44100);
    std::shared_ptr<ReadOutcome> read(std::uint64_t voice, std::uint64_t bytes);

    // AudioOutListener calls (no reply expected, as QEMU sends them).
    void init(std::uint64_t voice, std::uint8_t bits, bool is_signed, bool is_float, std::uint32_t rate,
              std::uint8_t channels);
    void set_enabled(std::uint64_t voice, bool enabled);
    void set_volume(std::uint64_t voice, bool mute, std::vector<std::uint8_t> levels);
    void write(std::uint64_t voice, std::span<const std::uint8_t> samples);

    // Init (16-bit signed stereo at `rate`), SetEnabled and full volume for `voice`, then a sine
    // of `hz` written every 10 ms for as long as the loop runs, at the real-time rate.
    void start_tone(std::uint64_t voice, double hz, std::uint32_t rate = 44100);
    void stop_tone();

private:
    void send(sd_bus_message* m);
    static int on_register_out(sd_bus_message* m, void* data, sd_bus_error* error);
    static int on_register_in(sd_bus_message* m, void* data, sd_bus_error* error);
    static int on_tone_timer(void* data);

    wl_event_loop* loop_;
    int out_register_calls_ = 0;
    detail::SlotPtr object_slot_;
    detail::BusPtr out_bus_;
    std::unique_ptr<detail::BusEventSource> out_source_;
    bool out_open_ = false;
    int in_register_calls_ = 0;
    detail::BusPtr in_bus_;
    std::unique_ptr<detail::BusEventSource> in_source_;
    bool in_open_ = false;
    std::vector<std::pair<detail::SlotPtr, std::shared_ptr<ReadOutcome>>> reads_;
    detail::EventSourcePtr tone_timer_;
    std::uint64_t tone_voice_ = 0;
    double tone_hz_ = 0;
    std::uint32_t tone_rate_ = 0;
    std::uint64_t tone_frames_ = 0; // written so far
    double tone_started_ms_ = 0;
};

} // namespace phyllome::guestview::testing
