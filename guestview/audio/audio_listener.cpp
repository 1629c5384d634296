#include "guestview/audio/audio_listener.hpp"

#include <algorithm>
#include <cstring>

#include "config/log.hpp"
#include "guestview/display/listener_bus.hpp"

namespace phyllome::guestview {
namespace {

// A second of samples is far more than QEMU ever asks for at once (it reads per timer tick).
constexpr std::uint64_t max_read_ms = 1000;
constexpr const char* error_invalid = "org.qemu.Display1.Error.Invalid";

std::string errno_text(int r) { return std::strerror(-r); }

} // namespace

AudioListener::AudioListener(Key, AudioDirection direction, std::string log_name, AudioEvents events)
    : direction_(direction), log_name_(std::move(log_name)), events_(std::move(events)) {}

const char* AudioListener::register_method(AudioDirection direction) {
    return direction == AudioDirection::Out ? "RegisterOutListener" : "RegisterInListener";
}

std::unique_ptr<AudioListener> AudioListener::create(wl_event_loop* loop, AudioDirection direction,
                                                     std::string log_name, AudioEvents events,
                                                     detail::UniqueFd& qemu_end, std::string& error) {
    static const sd_bus_vtable out_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD("Init", "tybbuyuub", "", on_init, 0),
        SD_BUS_METHOD("Fini", "t", "", on_fini, 0),
        SD_BUS_METHOD("SetEnabled", "tb", "", on_set_enabled, 0),
        SD_BUS_METHOD("SetVolume", "tbay", "", on_set_volume, 0),
        SD_BUS_METHOD("Write", "tay", "", on_write, 0),
        SD_BUS_VTABLE_END,
    };
    static const sd_bus_vtable in_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD("Init", "tybbuyuub", "", on_init, 0),
        SD_BUS_METHOD("Fini", "t", "", on_fini, 0),
        SD_BUS_METHOD("SetEnabled", "tb", "", on_set_enabled, 0),
        SD_BUS_METHOD("SetVolume", "tbay", "", on_set_volume, 0),
        SD_BUS_METHOD("Read", "tt", "ay", on_read, 0),
        SD_BUS_VTABLE_END,
    };
    const bool out = direction == AudioDirection::Out;
    const char* path = out ? "/org/qemu/Display1/AudioOutListener" : "/org/qemu/Display1/AudioInListener";
    const char* interface = out ? "org.qemu.Display1.AudioOutListener" : "org.qemu.Display1.AudioInListener";
    auto self = std::make_unique<AudioListener>(Key{}, direction, std::move(log_name), std::move(events));
    self->bus_ = detail::new_listener_bus(out ? "guestview-audio-out" : "guestview-audio-in", qemu_end, error);
    if (!self->bus_)
        return nullptr;
    sd_bus_slot* slot = nullptr;
    int r = sd_bus_add_object_vtable(self->bus_.get(), &slot, path, interface, out ? out_vtable : in_vtable, self.get());
    if (r < 0) {
        error = fmt::format("exporting {}: {}", interface, errno_text(r));
        return nullptr;
    }
    self->slot_.reset(slot);
    r = sd_bus_start(self->bus_.get());
    if (r < 0) {
        error = "sd_bus_start: " + errno_text(r);
        return nullptr;
    }
    AudioListener* raw = self.get();
    self->source_ = std::make_unique<detail::BusEventSource>(loop, self->bus_.get(), [raw](std::string reason) {
        auto closed = raw->events_.closed;
        if (closed)
            closed(std::move(reason));
    });
    return self;
}

int AudioListener::refuse(sd_bus_message* m, const std::string& what) {
    ++refused_;
    log::warn("guest {}: refused audio {}", log_name_, what);
    return sd_bus_reply_method_errorf(m, error_invalid, "%s", what.c_str());
}

const PcmFormat* AudioListener::format_of(std::uint64_t voice) const {
    auto it = std::find_if(voices_.begin(), voices_.end(), [&](const auto& v) { return v.first == voice; });
    return it == voices_.end() ? nullptr : &it->second;
}

int AudioListener::on_init(sd_bus_message* m, void* data, sd_bus_error*) {
    auto* self = static_cast<AudioListener*>(data);
    std::uint64_t voice = 0;
    std::uint8_t bits = 0, channels = 0;
    int is_signed = 0, is_float = 0, big_endian = 0;
    std::uint32_t rate = 0, bytes_per_frame = 0, bytes_per_second = 0;
    int r = sd_bus_message_read(m, "tybbuyuub", &voice, &bits, &is_signed, &is_float, &rate, &channels,
                                &bytes_per_frame, &bytes_per_second, &big_endian);
    if (r < 0)
        return self->refuse(m, "Init: unreadable message (" + errno_text(r) + ")");
    const PcmFormat format{bits, is_signed != 0, is_float != 0, rate, channels, bytes_per_frame, big_endian != 0};
    if (std::string problem = pcm_format_problem(format); !problem.empty())
        return self->refuse(m, fmt::format("Init of voice {}: cannot play {}", voice, problem));
    if (self->voices_.size() >= 16 && !self->format_of(voice))
        return self->refuse(m, fmt::format("Init of voice {}: too many voices", voice));
    std::erase_if(self->voices_, [&](const auto& v) { return v.first == voice; });
    self->voices_.emplace_back(voice, format);
    log::info("guest {}: audio {} voice {}: {} Hz, {} channel(s), {}-bit {}{}", self->log_name_,
              self->direction_ == AudioDirection::Out ? "out" : "in", voice, rate, channels,
              bits, is_float ? "float" : is_signed ? "signed" : "unsigned", big_endian ? " big-endian" : "");
    if (self->events_.init)
        self->events_.init(voice, format);
    return sd_bus_reply_method_return(m, "");
}

int AudioListener::on_fini(sd_bus_message* m, void* data, sd_bus_error*) {
    auto* self = static_cast<AudioListener*>(data);
    std::uint64_t voice = 0;
    int r = sd_bus_message_read(m, "t", &voice);
    if (r < 0)
        return self->refuse(m, "Fini: unreadable message (" + errno_text(r) + ")");
    if (std::erase_if(self->voices_, [&](const auto& v) { return v.first == voice; }) > 0 && self->events_.fini)
        self->events_.fini(voice);
    return sd_bus_reply_method_return(m, "");
}

int AudioListener::on_set_enabled(sd_bus_message* m, void* data, sd_bus_error*) {
    auto* self = static_cast<AudioListener*>(data);
    std::uint64_t voice = 0;
    int enabled = 0;
    int r = sd_bus_message_read(m, "tb", &voice, &enabled);
    if (r < 0)
        return self->refuse(m, "SetEnabled: unreadable message (" + errno_text(r) + ")");
    if (!self->format_of(voice))
        return self->refuse(m, fmt::format("SetEnabled: unknown voice {}", voice));
    if (self->events_.enabled)
        self->events_.enabled(voice, enabled != 0);
    return sd_bus_reply_method_return(m, "");
}

int AudioListener::on_set_volume(sd_bus_message* m, void* data, sd_bus_error*) {
    auto* self = static_cast<AudioListener*>(data);
    std::uint64_t voice = 0;
    int mute = 0;
    const void* levels = nullptr;
    std::size_t size = 0;
    int r = sd_bus_message_read(m, "tb", &voice, &mute);
    if (r >= 0)
        r = sd_bus_message_read_array(m, 'y', &levels, &size);
    if (r < 0)
        return self->refuse(m, "SetVolume: unreadable message (" + errno_text(r) + ")");
    if (!self->format_of(voice))
        return self->refuse(m, fmt::format("SetVolume: unknown voice {}", voice));
    if (size > max_pcm_channels)
        return self->refuse(m, fmt::format("SetVolume: {} channel levels", size));
    if (self->events_.volume)
        self->events_.volume(voice, mute != 0, {static_cast<const std::uint8_t*>(levels), size});
    return sd_bus_reply_method_return(m, "");
}

int AudioListener::on_write(sd_bus_message* m, void* data, sd_bus_error*) {
    auto* self = static_cast<AudioListener*>(data);
    std::uint64_t voice = 0;
    const void* samples = nullptr;
    std::size_t size = 0;
    int r = sd_bus_message_read(m, "t", &voice);
    if (r >= 0)
        r = sd_bus_message_read_array(m, 'y', &samples, &size);
    if (r < 0)
        return self->refuse(m, "Write: unreadable message (" + errno_text(r) + ")");
    const PcmFormat* format = self->format_of(voice);
    if (!format)
        return self->refuse(m, fmt::format("Write: unknown voice {}", voice));
    size -= size % format->bytes_per_frame; // a torn frame would shift every later sample
    if (size > 0 && self->events_.write)
        self->events_.write(voice, {static_cast<const std::uint8_t*>(samples), size});
    return sd_bus_reply_method_return(m, ""); // no reply expected: sd-bus sends nothing
}

int AudioListener::on_read(sd_bus_message* m, void* data, sd_bus_error*) {
    auto* self = static_cast<AudioListener*>(data);
    std::uint64_t voice = 0, size = 0;
    int r = sd_bus_message_read(m, "tt", &voice, &size);
    if (r < 0)
        return self->refuse(m, "Read: unreadable message (" + errno_text(r) + ")");
    const PcmFormat* format = self->format_of(voice);
    if (!format)
        return self->refuse(m, fmt::format("Read: unknown voice {}", voice));
    if (size > format->bytes_per_second() * max_read_ms / 1000)
        return self->refuse(m, fmt::format("Read: {} bytes at once", size));
    std::vector<std::uint8_t> samples(size - size % format->bytes_per_frame);
    silence(*format, samples);
    if (!samples.empty() && self->events_.read)
        self->events_.read(voice, samples);
    sd_bus_message* raw = nullptr;
    r = sd_bus_message_new_method_return(m, &raw);
    if (r < 0)
        return r;
    detail::MessagePtr reply(raw);
    r = sd_bus_message_append_array(raw, 'y', samples.data(), samples.size());
    if (r < 0)
        return r;
    return sd_bus_send(nullptr, raw, nullptr);
}

} // namespace phyllome::guestview
