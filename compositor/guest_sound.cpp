#include "compositor/guest_sound.hpp"

#include "config/log.hpp"

namespace phyllome::compositor {

GuestSound::GuestSound(wl_event_loop* loop, const config::Config& config, std::function<void()> changed)
    : loop_(loop), config_(config), changed_(std::move(changed)) {
    player_ = std::make_unique<guestview::PipeWirePlayer>(loop, [this] {
        if (changed_)
            changed_();
    });
}

GuestSound::~GuestSound() { guests_.clear(); }

bool GuestSound::audible(const std::string& guest) const {
    return guest == shown_ || config_.audio.hidden == "play";
}

void GuestSound::attached(const std::string& guest, guestview::DisplayConnection& display) {
    guests_[guest] = std::make_unique<guestview::GuestAudio>(loop_, *player_, display, guest, audible(guest), [this] {
        if (changed_)
            changed_();
    });
}

void GuestSound::detached(const std::string& guest) { guests_.erase(guest); }

void GuestSound::shown(const std::string& guest) {
    if (guest == shown_)
        return;
    shown_ = guest;
    apply_config();
}

void GuestSound::apply_config() {
    for (auto& [name, audio] : guests_)
        audio->set_audible(audible(name));
}

AudioStatus GuestSound::status() const {
    AudioStatus s;
    s.sound_server = player_->connected();
    s.problem = player_->problem();
    s.hidden = config_.audio.hidden;
    for (const auto& [name, audio] : guests_) {
        GuestAudioRow row{name, audio->audible(), audio->status()};
        if (name == shown_ && row.status.state == "playing")
            s.playing = name;
        s.guests.push_back(std::move(row));
    }
    return s;
}

} // namespace phyllome::compositor
