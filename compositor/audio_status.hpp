// What the shell's sound does, for phyllomectl status. Plain data.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "guestview/audio/guest_audio.hpp"

namespace phyllome::compositor {

struct GuestAudioRow {
    std::string guest;
    bool audible = false;
    guestview::GuestAudioStatus status;
};

struct AudioStatus {
    bool sound_server = false;
    std::string problem;               // e.g. "no sound server (No such file or directory)"
    std::string hidden = "mute";       // the config's audio.hidden
    std::optional<std::string> playing; // the shown guest, while its sound listener is registered
    std::optional<std::string> mic;     // the guest whose microphone is on (registering or live)
    std::vector<GuestAudioRow> guests;
};

// {"sound_server": …, "problem": …, "hidden": …, "playing": …, "guests": [...]}
std::string audio_status_json(const AudioStatus& audio);
// One line, e.g. "Sound: win11 plays (PipeWire)" or "Sound: no sound server (…)".
std::string audio_status_text(const AudioStatus& audio);

} // namespace phyllome::compositor
