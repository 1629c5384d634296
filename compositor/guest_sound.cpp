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
    microphone_off(); // the microphone is for the guest it was turned on for, while it is shown
    shown_ = guest;
    apply_config();
}

bool GuestSound::toggle_microphone(guestview::DisplayConnection* display, std::string& why) {
    auto it = guests_.find(shown_);
    if (shown_.empty() || it == guests_.end()) {
        why = "The microphone is for the guest on screen: show one first";
        return false;
    }
    it->second->set_microphone(!it->second->microphone(), display);
    return true;
}

void GuestSound::microphone_off() {
    for (auto& [name, audio] : guests_)
        audio->set_microphone(false, nullptr);
}

std::string GuestSound::microphone() const {
    for (const auto& [name, audio] : guests_)
        if (audio->microphone())
            return name;
    return {};
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
    if (std::string mic = microphone(); !mic.empty())
        s.mic = mic;
    return s;
}

} // namespace phyllome::compositor
