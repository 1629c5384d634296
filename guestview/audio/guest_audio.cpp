#include "guestview/audio/guest_audio.hpp"

#include <fmt/format.h>

#include "config/log.hpp"
#include "guestview/display/display_connection.hpp"

namespace phyllome::guestview {
namespace {

constexpr const char* audio_path = "/org/qemu/Display1/Audio";
constexpr const char* audio_interface = "org.qemu.Display1.Audio";

// QEMU ≥ 8.1 lists Interfaces on its consoles; only those are known not to crash on audio in p2p.
bool audio_safe(const DisplayConnection& display) {
    for (std::uint32_t id : display.vm().console_ids)
        if (const ConsoleInfo* console = display.console(id); console && console->lists_interfaces)
            return true;
    return false;
}

// A guest without <audio type='dbus'/> has no Audio object: QEMU says the object or method is unknown.
bool no_audio_object(const std::string& error) {
    return error.find("nknown") != std::string::npos || error.find("No such") != std::string::npos;
}

} // namespace

GuestAudio::GuestAudio(wl_event_loop* loop, PipeWirePlayer& player, DisplayConnection& display, std::string guest,
                       bool audible, std::function<void()> changed)
    : loop_(loop), player_(player), guest_(std::move(guest)), audible_(audible), changed_(std::move(changed)) {
    if (!audio_safe(display)) {
        status_.state = "unsupported";
        status_.note = "QEMU before 8.1: its D-Bus audio crashes in p2p mode";
        log::info("guest {}: no sound: {}", guest_, status_.note);
        return;
    }
    AudioEvents events = common_events(voices_, VoiceDirection::Playback);
    events.write = [this](std::uint64_t id, std::span<const std::uint8_t> samples) {
        status_.bytes_received += samples.size();
        auto it = voices_.find(id);
        if (it == voices_.end() || !it->second.out)
            return;
        if (plays(it->second))
            it->second.out->write(samples);
        else
            dropped_hidden_ += samples.size();
    };
    events.closed = [this](std::string reason) {
        voices_.clear();
        listener_.reset();
        set_state("closed", std::move(reason));
    };
    std::string error;
    detail::UniqueFd qemu_end;
    listener_ = AudioListener::create(loop_, AudioDirection::Out, guest_, std::move(events), qemu_end, error);
    if (!listener_) {
        set_state("failed", error);
        return;
    }
    std::weak_ptr<GuestAudio*> alive = alive_;
    display.register_listener_fd(audio_path, audio_interface, AudioListener::register_method(AudioDirection::Out),
                                 qemu_end.get(), [alive](std::string error) {
                                     if (auto self = alive.lock())
                                         (*self)->registered(error);
                                 });
    // sd-bus duplicated the fd into the message; ours closes with qemu_end.
}

GuestAudio::~GuestAudio() = default;

AudioEvents GuestAudio::common_events(Voices& voices, VoiceDirection direction) {
    AudioEvents events;
    events.init = [this, &voices, direction](std::uint64_t id, const PcmFormat& format) {
        Voice& voice = voices[id];
        const char* what = direction == VoiceDirection::Playback ? "sound" : "microphone";
        voice.out = player_.voice(fmt::format("{} (guest {} {})", guest_, what, id), format, direction);
        if (direction == VoiceDirection::Playback)
            voice.out->set_active(audible_);
        if (!voice.levels.empty())
            voice.out->set_volume(voice.mute, voice.levels);
    };
    events.fini = [&voices](std::uint64_t id) { voices.erase(id); };
    events.enabled = [&voices](std::uint64_t id, bool enabled) {
        Voice& voice = voices[id];
        voice.enabled = enabled;
        if (!enabled && voice.out)
            voice.out->clear();
    };
    events.volume = [&voices](std::uint64_t id, bool mute, std::span<const std::uint8_t> levels) {
        Voice& voice = voices[id];
        voice.mute = mute;
        voice.levels.assign(levels.begin(), levels.end());
        if (voice.out)
            voice.out->set_volume(mute, levels);
    };
    return events;
}

void GuestAudio::registered(const std::string& error) {
    if (error.empty()) {
        log::info("guest {}: sound listener registered", guest_);
        set_state("playing");
        return;
    }
    listener_.reset();
    if (no_audio_object(error)) {
        log::info("guest {}: no D-Bus sound device ({})", guest_, error);
        set_state("no audio", error);
    } else {
        log::warn("guest {}: registering the sound listener failed: {}", guest_, error);
        set_state("failed", error);
    }
}

void GuestAudio::set_microphone(bool on, DisplayConnection* display) {
    if (on == microphone())
        return;
    if (!on) {
        // Closing the socket is how QEMU learns the listener is gone.
        in_voices_.clear();
        in_listener_.reset();
        status_.mic = "off";
        status_.mic_note.clear();
        log::info("guest {}: microphone off", guest_);
        if (changed_)
            changed_();
        return;
    }
    if (!display || status_.state == "unsupported") {
        status_.mic = "failed";
        status_.mic_note = display ? status_.note : "the guest's display is not connected";
        if (changed_)
            changed_();
        return;
    }
    AudioEvents events = common_events(in_voices_, VoiceDirection::Capture);
    events.read = [this](std::uint64_t id, std::span<std::uint8_t> samples) {
        auto it = in_voices_.find(id);
        if (it != in_voices_.end() && it->second.out && it->second.enabled)
            status_.mic_bytes += it->second.out->read(samples);
    };
    events.closed = [this](std::string reason) {
        in_voices_.clear();
        in_listener_.reset();
        status_.mic = "off";
        status_.mic_note = std::move(reason);
        if (changed_)
            changed_();
    };
    std::string error;
    detail::UniqueFd qemu_end;
    in_listener_ = AudioListener::create(loop_, AudioDirection::In, guest_, std::move(events), qemu_end, error);
    if (!in_listener_) {
        status_.mic = "failed";
        status_.mic_note = error;
        return;
    }
    status_.mic = "registering";
    status_.mic_note.clear();
    std::weak_ptr<GuestAudio*> alive = alive_;
    display->register_listener_fd(audio_path, audio_interface, AudioListener::register_method(AudioDirection::In),
                                  qemu_end.get(), [alive](std::string error) {
                                      if (auto self = alive.lock())
                                          (*self)->mic_registered(error);
                                  });
    if (changed_)
        changed_();
}

void GuestAudio::mic_registered(const std::string& error) {
    if (!in_listener_)
        return; // turned off meanwhile
    if (error.empty()) {
        log::info("guest {}: microphone live", guest_);
        status_.mic = "live";
    } else {
        log::warn("guest {}: registering the microphone failed: {}", guest_, error);
        in_voices_.clear();
        in_listener_.reset();
        status_.mic = "failed";
        status_.mic_note = no_audio_object(error) ? "the guest has no D-Bus sound device" : error;
    }
    if (changed_)
        changed_();
}

void GuestAudio::set_state(std::string state, std::string note) {
    status_.state = std::move(state);
    status_.note = std::move(note);
    if (changed_)
        changed_();
}

void GuestAudio::set_audible(bool audible) {
    if (audible == audible_)
        return;
    audible_ = audible;
    for (auto& [id, voice] : voices_) {
        if (!voice.out)
            continue;
        if (!audible)
            voice.out->clear();
        voice.out->set_active(audible);
    }
}

GuestAudioStatus GuestAudio::status() const {
    GuestAudioStatus s = status_;
    s.voices = voices_.size();
    s.bytes_dropped = dropped_hidden_;
    for (const auto& [id, voice] : voices_)
        if (voice.out) {
            s.bytes_played += voice.out->played_bytes();
            s.bytes_dropped += voice.out->dropped_bytes();
        }
    return s;
}

} // namespace phyllome::guestview
