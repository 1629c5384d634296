#include "compositor/audio_status.hpp"

#include <fmt/format.h>

#include "compositor/status.hpp"

namespace phyllome::compositor {

std::string audio_status_json(const AudioStatus& a) {
    std::string guests;
    for (const auto& g : a.guests)
        guests += fmt::format("{}{{\"name\": {}, \"state\": {}, \"note\": {}, \"audible\": {}, \"voices\": {}, "
                              "\"bytes_received\": {}, \"bytes_played\": {}, \"bytes_dropped\": {}, \"mic\": {}, "
                              "\"mic_note\": {}, \"mic_bytes\": {}}}",
                              guests.empty() ? "" : ", ", json_escape(g.guest), json_escape(g.status.state),
                              g.status.note.empty() ? std::string("null") : json_escape(g.status.note), g.audible,
                              g.status.voices, g.status.bytes_received, g.status.bytes_played,
                              g.status.bytes_dropped, json_escape(g.status.mic),
                              g.status.mic_note.empty() ? std::string("null") : json_escape(g.status.mic_note),
                              g.status.mic_bytes);
    return fmt::format("{{\"sound_server\": {}, \"problem\": {}, \"hidden\": {}, \"playing\": {}, \"mic\": {}, "
                       "\"guests\": [{}]}}",
                       a.sound_server, a.problem.empty() ? std::string("null") : json_escape(a.problem),
                       json_escape(a.hidden), a.playing ? json_escape(*a.playing) : std::string("null"),
                       a.mic ? json_escape(*a.mic) : std::string("null"), guests);
}

std::string audio_status_text(const AudioStatus& a) {
    const std::string mic = a.mic ? fmt::format("Microphone: on for {}\n", *a.mic) : "";
    if (!a.sound_server) // PipeWire is only asked for once a guest has sound
        return fmt::format("Sound: {}\n", a.problem.empty() ? "no guest has sound" : a.problem) + mic;
    if (a.playing)
        return fmt::format("Sound: {} plays (PipeWire; hidden guests: {})\n", *a.playing, a.hidden) + mic;
    return fmt::format("Sound: PipeWire, nothing plays (hidden guests: {})\n", a.hidden) + mic;
}

} // namespace phyllome::compositor
