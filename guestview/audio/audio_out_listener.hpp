// The org.qemu.Display1.AudioOutListener object guestview serves for one guest, on its own
// listener connection (listener_bus.hpp): QEMU calls Init/Fini/SetEnabled/SetVolume/Write for
// each of the guest's playback voices. Loop thread only; every call is checked before it is
// passed on, and a malformed one is refused (logged), never fatal.
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

struct AudioOutEvents {
    std::function<void(std::uint64_t voice, const PcmFormat&)> init; // valid formats only
    std::function<void(std::uint64_t voice)> fini;
    std::function<void(std::uint64_t voice, bool enabled)> enabled;
    // `volume`: one 0..255 level per channel (QEMU's scale, 255 = full).
    std::function<void(std::uint64_t voice, bool mute, std::span<const std::uint8_t> volume)> volume;
    // Only for voices `init` announced; whole frames only.
    std::function<void(std::uint64_t voice, std::span<const std::uint8_t> samples)> write;
    // Last call a dispatch makes: the owner may destroy the listener in it.
    std::function<void(std::string reason)> closed;
};

class AudioOutListener {
    struct Key { explicit Key() = default; };
public:
    AudioOutListener(Key, std::string log_name, AudioOutEvents events);
    // Makes the listener connection, exported and on the loop; `qemu_end` gets the socket for
    // Audio.RegisterOutListener. nullptr with `error` on failure.
    static std::unique_ptr<AudioOutListener> create(wl_event_loop* loop, std::string log_name, AudioOutEvents events,
                                                    detail::UniqueFd& qemu_end, std::string& error);
    AudioOutListener(const AudioOutListener&) = delete;
    AudioOutListener& operator=(const AudioOutListener&) = delete;

    std::uint64_t refused() const { return refused_; }

private:
    static int on_init(sd_bus_message* m, void* data, sd_bus_error* error);
    static int on_fini(sd_bus_message* m, void* data, sd_bus_error* error);
    static int on_set_enabled(sd_bus_message* m, void* data, sd_bus_error* error);
    static int on_set_volume(sd_bus_message* m, void* data, sd_bus_error* error);
    static int on_write(sd_bus_message* m, void* data, sd_bus_error* error);
    int refuse(sd_bus_message* m, const std::string& what);
    const PcmFormat* format_of(std::uint64_t voice) const;

    std::string log_name_;
    AudioOutEvents events_;
    std::vector<std::pair<std::uint64_t, PcmFormat>> voices_; // a guest has one or two
    std::uint64_t refused_ = 0;
    detail::BusPtr bus_;
    detail::SlotPtr slot_;
    std::unique_ptr<detail::BusEventSource> source_;
};

} // namespace phyllome::guestview
