// One guest's sound: registers an AudioOutListener with the guest's QEMU (through its
// DisplayConnection) and plays every voice through the PipeWirePlayer while the guest is
// audible; an inaudible guest's samples are dropped as they come. The microphone is an
// AudioInListener registered only while it is on: QEMU's reads get what PipeWire's default
// source hears (silence until it has something).
//
// QEMU 7.2 crashes on Audio.RegisterOutListener in p2p mode (fixed in 8.0, e74fec9aa4), so we
// only register with a QEMU whose consoles have the Interfaces property (8.1 and later).
// Loop thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "guestview/audio/audio_listener.hpp"
#include "guestview/audio/pipewire_player.hpp"

namespace phyllome::guestview {

class DisplayConnection;

struct GuestAudioStatus {
    // "registering", "playing" (registered: QEMU may send), "no audio" (the guest has no dbus
    // audio device), "unsupported" (QEMU before 8.1), "closed" or "failed"
    std::string state = "registering";
    std::string note; // the error, when there is one
    std::size_t voices = 0;
    std::uint64_t bytes_received = 0;
    std::uint64_t bytes_played = 0;
    std::uint64_t bytes_dropped = 0; // hidden, or more than the buffer holds
    // The microphone: "off", "registering", "live" or "failed"; mic_note says why it failed.
    std::string mic = "off";
    std::string mic_note;
    std::uint64_t mic_bytes = 0; // heard and handed to the guest
};

class GuestAudio {
public:
    // Registers right away; `changed` runs when status() changes state.
    GuestAudio(wl_event_loop* loop, PipeWirePlayer& player, DisplayConnection& display, std::string guest,
               bool audible, std::function<void()> changed);
    ~GuestAudio();
    GuestAudio(const GuestAudio&) = delete;
    GuestAudio& operator=(const GuestAudio&) = delete;

    void set_audible(bool audible);
    bool audible() const { return audible_; }
    // Registers (on) or drops (off) the AudioInListener; `display` is needed to turn it on.
    void set_microphone(bool on, DisplayConnection* display);
    bool microphone() const { return in_listener_ != nullptr; }
    GuestAudioStatus status() const;

private:
    struct Voice {
        std::unique_ptr<PipeWireVoice> out;
        bool enabled = true;
        bool mute = false;
        std::vector<std::uint8_t> levels;
    };
    using Voices = std::map<std::uint64_t, Voice>;
    AudioEvents common_events(Voices& voices, VoiceDirection direction);
    void registered(const std::string& error);
    void mic_registered(const std::string& error);
    void set_state(std::string state, std::string note = {});
    bool plays(const Voice& voice) const { return audible_ && voice.enabled; }

    wl_event_loop* loop_;
    PipeWirePlayer& player_;
    std::string guest_;
    bool audible_;
    std::function<void()> changed_;
    GuestAudioStatus status_;
    std::unique_ptr<AudioListener> listener_;
    Voices voices_;
    std::unique_ptr<AudioListener> in_listener_;
    Voices in_voices_;
    std::uint64_t dropped_hidden_ = 0;
    std::shared_ptr<GuestAudio*> alive_ = std::make_shared<GuestAudio*>(this);
};

} // namespace phyllome::guestview
