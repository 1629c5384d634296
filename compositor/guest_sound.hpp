// Which guests are heard: every attached guest gets its GuestAudio, the shown one plays, hidden
// ones are muted unless `[audio] hidden = "play"`; the microphone is on for the shown guest only
// when the user turns it on, and off again when another guest (or nothing) is shown. Owns the
// PipeWire connection; without a sound server everything still runs and the status says "no
// sound server".
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "compositor/audio_status.hpp"
#include "config/config.hpp"
#include "guestview/audio/guest_audio.hpp"
#include "guestview/audio/pipewire_player.hpp"

struct wl_event_loop;

namespace phyllome::guestview {
class DisplayConnection;
}

namespace phyllome::compositor {

class GuestSound {
public:
    // `config` is read on every change (it is the Server's, replaced on reload); `changed` runs
    // when the sound server comes or goes or a guest's sound state changes.
    GuestSound(wl_event_loop* loop, const config::Config& config, std::function<void()> changed);
    ~GuestSound();
    GuestSound(const GuestSound&) = delete;
    GuestSound& operator=(const GuestSound&) = delete;

    void attached(const std::string& guest, guestview::DisplayConnection& display);
    void detached(const std::string& guest);
    // The guest at the front; empty: none (the overlay or a window).
    void shown(const std::string& guest);
    void apply_config();
    // Host+mic key: the shown guest's microphone on or off (`display` is its connection). False
    // with `why` when there is no guest to turn it on for.
    bool toggle_microphone(guestview::DisplayConnection* display, std::string& why);
    void microphone_off();
    // The guest whose microphone is on, or empty.
    std::string microphone() const;

    bool sound_server() const { return player_->connected(); }
    const std::string& problem() const { return player_->problem(); }
    AudioStatus status() const;

private:
    bool audible(const std::string& guest) const;

    wl_event_loop* loop_;
    const config::Config& config_;
    std::function<void()> changed_;
    std::string shown_;
    std::unique_ptr<guestview::PipeWirePlayer> player_;
    std::map<std::string, std::unique_ptr<guestview::GuestAudio>> guests_; // before player_ goes
};

} // namespace phyllome::compositor
