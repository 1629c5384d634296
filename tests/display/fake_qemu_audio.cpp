#include "tests/display/fake_qemu_audio.hpp"
#include "tests/display/fake_qemu_display_parts.hpp"

#include <time.h>

#include <algorithm>
#include <cmath>
#include <numbers>

namespace phyllome::guestview::testing {
namespace {

constexpr const char* out_listener_path = "/org/qemu/Display1/AudioOutListener";
constexpr const char* out_listener_interface = "org.qemu.Display1.AudioOutListener";

double now_ms() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

} // namespace

FakeQemuAudio::FakeQemuAudio(wl_event_loop* loop, FakeQemuDisplay& display) : loop_(loop) {
    display.add_exporter([this](sd_bus* bus) {
        static const sd_bus_vtable audio_vtable[] = {
            SD_BUS_VTABLE_START(0),
            SD_BUS_METHOD("RegisterOutListener", "h", "", on_register_out, 0),
            SD_BUS_METHOD("RegisterInListener", "h", "", on_register_in, 0),
            SD_BUS_VTABLE_END,
        };
        sd_bus_slot* slot = nullptr;
        check(sd_bus_add_object_vtable(bus, &slot, "/org/qemu/Display1/Audio", "org.qemu.Display1.Audio",
                                       audio_vtable, this),
              "exporting Audio");
        object_slot_.reset(slot);
    });
}

FakeQemuAudio::~FakeQemuAudio() = default;

bool FakeQemuAudio::out_listener_connected() const { return out_open_ && out_source_ && !out_source_->closed(); }

int FakeQemuAudio::on_register_out(sd_bus_message* m, void* data, sd_bus_error*) {
    auto* self = static_cast<FakeQemuAudio*>(data);
    ++self->out_register_calls_;
    int fd = -1;
    check(sd_bus_message_read(m, "h", &fd), "reading RegisterOutListener");
    auto listener_fd = detail::duplicate_fd(fd);
    check(sd_bus_reply_method_return(m, ""), "replying to RegisterOutListener");
    // A new registration replaces the previous listener (one client in p2p).
    self->out_source_.reset();
    self->out_bus_ = make_server_bus(listener_fd.release());
    self->out_open_ = true;
    self->out_source_ = std::make_unique<detail::BusEventSource>(self->loop_, self->out_bus_.get(),
                                                                 [self](std::string) { self->out_open_ = false; });
    return 1;
}

bool FakeQemuAudio::in_listener_connected() const { return in_open_ && in_source_ && !in_source_->closed(); }

int FakeQemuAudio::on_register_in(sd_bus_message* m, void* data, sd_bus_error*) {
    auto* self = static_cast<FakeQemuAudio*>(data);
    ++self->in_register_calls_;
    int fd = -1;
    check(sd_bus_message_read(m, "h", &fd), "reading RegisterInListener");
    auto listener_fd = detail::duplicate_fd(fd);
    check(sd_bus_reply_method_return(m, ""), "replying to RegisterInListener");
    self->reads_.clear();
    self->in_source_.reset();
    self->in_bus_ = make_server_bus(listener_fd.release());
    self->in_open_ = true;
    self->in_source_ = std::make_unique<detail::BusEventSource>(self->loop_, self->in_bus_.get(),
                                                                [self](std::string) { self->in_open_ = false; });
    return 1;
}

void FakeQemuAudio::in_init(std::uint64_t voice, std::uint32_t rate) {
    if (!in_listener_connected())
        return;
    sd_bus_message* m = nullptr;
    check(sd_bus_message_new_method_call(in_bus_.get(), &m, nullptr, "/org/qemu/Display1/AudioInListener",
                                         "org.qemu.Display1.AudioInListener", "Init"),
          "new method call");
    detail::MessagePtr owned(m);
    check(sd_bus_message_append(m, "tybbuyuub", voice, std::uint8_t{16}, 1, 0, rate, std::uint8_t{2}, 4u, 4 * rate, 0),
          "append Init");
    check(sd_bus_message_set_expect_reply(m, 0), "set_expect_reply");
    check(sd_bus_send(in_bus_.get(), m, nullptr), "sd_bus_send");
    in_source_->rearm();
}

std::shared_ptr<ReadOutcome> FakeQemuAudio::read(std::uint64_t voice, std::uint64_t bytes) {
    auto outcome = std::make_shared<ReadOutcome>();
    if (!in_listener_connected()) {
        outcome->answered = true;
        outcome->error = "no in listener";
        return outcome;
    }
    sd_bus_message* m = nullptr;
    check(sd_bus_message_new_method_call(in_bus_.get(), &m, nullptr, "/org/qemu/Display1/AudioInListener",
                                         "org.qemu.Display1.AudioInListener", "Read"),
          "new method call");
    detail::MessagePtr owned(m);
    check(sd_bus_message_append(m, "tt", voice, bytes), "append Read");
    outcome->latency_ms = now_ms();
    sd_bus_slot* slot = nullptr;
    check(sd_bus_call_async(
              in_bus_.get(), &slot, m,
              [](sd_bus_message* reply, void* data, sd_bus_error*) {
                  auto* result = static_cast<ReadOutcome*>(data);
                  result->answered = true;
                  result->latency_ms = now_ms() - result->latency_ms;
                  if (const sd_bus_error* e = sd_bus_message_get_error(reply)) {
                      result->error = e->name;
                      return 0;
                  }
                  const void* samples = nullptr;
                  if (sd_bus_message_read_array(reply, 'y', &samples, &result->bytes) < 0) {
                      result->error = "malformed Read reply";
                      return 0;
                  }
                  const auto* bytes = static_cast<const std::uint8_t*>(samples);
                  for (std::size_t i = 0; i + 3 < result->bytes; i += 4)
                      result->left.push_back(static_cast<std::int16_t>(bytes[i] | (bytes[i + 1] << 8)));
                  return 0;
              },
              outcome.get(), 0),
          "Read");
    reads_.emplace_back(detail::SlotPtr(slot), outcome);
    in_source_->rearm();
    return outcome;
}

void FakeQemuAudio::send(sd_bus_message* m) {
    detail::MessagePtr owned(m);
    if (!out_listener_connected())
        return;
    check(sd_bus_message_set_expect_reply(m, 0), "set_expect_reply");
    check(sd_bus_send(out_bus_.get(), m, nullptr), "sd_bus_send");
    out_source_->rearm();
}

namespace {
sd_bus_message* new_out_call(sd_bus* bus, const char* member) {
    sd_bus_message* m = nullptr;
    check(sd_bus_message_new_method_call(bus, &m, nullptr, out_listener_path, out_listener_interface, member),
          "new method call");
    return m;
}
} // namespace

void FakeQemuAudio::init(std::uint64_t voice, std::uint8_t bits, bool is_signed, bool is_float, std::uint32_t rate,
                         std::uint8_t channels) {
    if (!out_listener_connected())
        return;
    const std::uint32_t frame = std::uint32_t(bits / 8) * channels;
    sd_bus_message* m = new_out_call(out_bus_.get(), "Init");
    check(sd_bus_message_append(m, "tybbuyuub", voice, bits, int{is_signed}, int{is_float}, rate, channels, frame,
                                frame * rate, 0),
          "append Init");
    send(m);
}

void FakeQemuAudio::set_enabled(std::uint64_t voice, bool enabled) {
    if (!out_listener_connected())
        return;
    sd_bus_message* m = new_out_call(out_bus_.get(), "SetEnabled");
    check(sd_bus_message_append(m, "tb", voice, int{enabled}), "append SetEnabled");
    send(m);
}

void FakeQemuAudio::set_volume(std::uint64_t voice, bool mute, std::vector<std::uint8_t> levels) {
    if (!out_listener_connected())
        return;
    sd_bus_message* m = new_out_call(out_bus_.get(), "SetVolume");
    check(sd_bus_message_append(m, "tb", voice, int{mute}), "append SetVolume");
    check(sd_bus_message_append_array(m, 'y', levels.data(), levels.size()), "append levels");
    send(m);
}

void FakeQemuAudio::write(std::uint64_t voice, std::span<const std::uint8_t> samples) {
    if (!out_listener_connected())
        return;
    sd_bus_message* m = new_out_call(out_bus_.get(), "Write");
    check(sd_bus_message_append(m, "t", voice), "append Write");
    check(sd_bus_message_append_array(m, 'y', samples.data(), samples.size()), "append samples");
    send(m);
}

void FakeQemuAudio::start_tone(std::uint64_t voice, double hz, std::uint32_t rate) {
    init(voice, 16, true, false, rate, 2);
    set_enabled(voice, true);
    set_volume(voice, false, {255, 255});
    tone_voice_ = voice;
    tone_hz_ = hz;
    tone_rate_ = rate;
    tone_frames_ = 0;
    tone_started_ms_ = now_ms();
    if (!tone_timer_)
        tone_timer_.reset(wl_event_loop_add_timer(loop_, on_tone_timer, this));
    on_tone_timer(this);
}

void FakeQemuAudio::stop_tone() {
    tone_timer_.reset();
}

int FakeQemuAudio::on_tone_timer(void* data) {
    auto* self = static_cast<FakeQemuAudio*>(data);
    // As many frames as real time says are due (the loop may have been busy), at most 100 ms.
    const auto due = static_cast<std::uint64_t>((now_ms() - self->tone_started_ms_) * self->tone_rate_ / 1000.0);
    std::uint64_t frames = due > self->tone_frames_ ? due - self->tone_frames_ : 0;
    if (frames > self->tone_rate_ / 10) { // too late for the rest: skip it, as a guest would
        self->tone_frames_ = due - self->tone_rate_ / 10;
        frames = self->tone_rate_ / 10;
    }
    std::vector<std::uint8_t> samples(frames * 4);
    for (std::uint64_t i = 0; i < frames; ++i) {
        const double t = double(self->tone_frames_ + i) / self->tone_rate_;
        const auto v = static_cast<std::int16_t>(std::lround(12000 * std::sin(2 * std::numbers::pi * self->tone_hz_ * t)));
        for (int channel = 0; channel < 2; ++channel) {
            samples[i * 4 + channel * 2] = static_cast<std::uint8_t>(v & 0xff);
            samples[i * 4 + channel * 2 + 1] = static_cast<std::uint8_t>((v >> 8) & 0xff);
        }
    }
    self->tone_frames_ += frames;
    if (frames > 0)
        self->write(self->tone_voice_, samples);
    if (self->tone_timer_)
        wl_event_source_timer_update(self->tone_timer_.get(), 10);
    return 0;
}

} // namespace phyllome::guestview::testing
