// The org.qemu.Display1.AudioOutListener (the guest's playback) or AudioInListener (its
// microphone) object guestview serves for one guest, on its own listener connection
// (listener_bus.hpp): QEMU calls Init/Fini/SetEnabled/SetVolume for each of the guest's voices,
// then Write (out) or Read (in; QEMU waits for the answer on its main loop, so it is answered at
// once from what is buffered). Loop thread only; every call is checked before it is passed on,
// and a malformed one is refused (logged), never fatal.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "guestview/audio/pcm_format.hpp"
#include "guestview/display/bus_event_source.hpp"
#include "guestview/display/bus_handles.hpp"

namespace phyllome::guestview {

enum class AudioDirection { Out, In };

struct AudioEvents {
    std::function<void(std::uint64_t voice, const PcmFormat&)> init; // valid formats only
    std::function<void(std::uint64_t voice)> fini;
    std::function<void(std::uint64_t voice, bool enabled)> enabled;
    // `volume`: one 0..255 level per channel (QEMU's scale, 255 = full).
    std::function<void(std::uint64_t voice, bool mute, std::span<const std::uint8_t> volume)> volume;
    // Out: only for voices `init` announced; whole frames only.
    std::function<void(std::uint64_t voice, std::span<const std::uint8_t> samples)> write;
    // In: fill `samples` (whole frames, at most a second) now; silence is already in it.
    std::function<void(std::uint64_t voice, std::span<std::uint8_t> samples)> read;
    // Last call a dispatch makes: the owner may destroy the listener in it.
    std::function<void(std::string reason)> closed;
};

class AudioListener {
    struct Key { explicit Key() = default; };
public:
    AudioListener(Key, AudioDirection direction, std::string log_name, AudioEvents events);
    // Makes the listener connection, exported and on the loop; `qemu_end` gets the socket for
    // Audio.RegisterOutListener (or RegisterInListener). nullptr with `error` on failure.
    static std::unique_ptr<AudioListener> create(wl_event_loop* loop, AudioDirection direction, std::string log_name,
                                                 AudioEvents events, detail::UniqueFd& qemu_end, std::string& error);
    AudioListener(const AudioListener&) = delete;
    AudioListener& operator=(const AudioListener&) = delete;

    // The Audio method that hands QEMU this listener's socket.
    static const char* register_method(AudioDirection direction);

    std::uint64_t refused() const { return refused_; }

private:
    static int on_init(sd_bus_message* m, void* data, sd_bus_error* error);
    static int on_fini(sd_bus_message* m, void* data, sd_bus_error* error);
    static int on_set_enabled(sd_bus_message* m, void* data, sd_bus_error* error);
    static int on_set_volume(sd_bus_message* m, void* data, sd_bus_error* error);
    static int on_write(sd_bus_message* m, void* data, sd_bus_error* error);
    static int on_read(sd_bus_message* m, void* data, sd_bus_error* error);
    int refuse(sd_bus_message* m, const std::string& what);
    const PcmFormat* format_of(std::uint64_t voice) const;

    AudioDirection direction_;
    std::string log_name_;
    AudioEvents events_;
    std::vector<std::pair<std::uint64_t, PcmFormat>> voices_; // a guest has one or two
    std::uint64_t refused_ = 0;
    detail::BusPtr bus_;
    detail::SlotPtr slot_;
    std::unique_ptr<detail::BusEventSource> source_;
};

} // namespace phyllome::guestview
