#include "guestview/audio/pipewire_player.hpp"

#include <pipewire/pipewire.h>
#include <spa/param/audio/format-utils.h>
#include <spa/param/props.h>
#include <wayland-server-core.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "config/log.hpp"

namespace phyllome::guestview {

struct PipeWirePlayer::CoreHook {
    spa_hook hook{};
    pw_core_events events{};
};

PipeWirePlayer::PipeWirePlayer(wl_event_loop* loop, std::function<void()> changed)
    : changed_(std::move(changed)), wl_loop_(loop) {}

// PipeWire's context (its modules, pools and threads' worth of state) comes with the first voice:
// a session whose guests have no sound costs neither its memory nor a retry timer's wakeups.
void PipeWirePlayer::start() {
    if (started_)
        return;
    started_ = true;
    pw_init(nullptr, nullptr);
    loop_ = pw_loop_new(nullptr);
    if (!loop_) {
        problem_ = fmt::format("no sound server (PipeWire's loop: {})", std::strerror(errno));
        return;
    }
    // Entered once for good: this thread is the loop's only user.
    pw_loop_enter(loop_);
    // No data-loop thread: stream processing runs on this (the main) loop, so the shell stays
    // single-threaded and a voice's ring needs no lock.
    context_ = pw_context_new(loop_, pw_properties_new("context.num-data-loops", "0", nullptr), 0);
    if (!context_) {
        problem_ = fmt::format("no sound server (PipeWire context: {})", std::strerror(errno));
        return;
    }
    fd_source_.reset(wl_event_loop_add_fd(wl_loop_, pw_loop_get_fd(loop_), WL_EVENT_READABLE, on_fd, this));
    retry_timer_.reset(wl_event_loop_add_timer(wl_loop_, on_retry, this));
}

PipeWirePlayer::~PipeWirePlayer() {
    lost_idle_.reset();
    disconnect();
    fd_source_.reset();
    if (context_)
        pw_context_destroy(context_);
    if (loop_) {
        pw_loop_leave(loop_);
        pw_loop_destroy(loop_);
    }
    if (started_)
        pw_deinit();
}

std::unique_ptr<PipeWireVoice> PipeWirePlayer::voice(std::string name, const PcmFormat& format,
                                                     VoiceDirection direction) {
    start();
    auto voice = std::make_unique<PipeWireVoice>(*this, std::move(name), format, direction);
    try_connect(); // at once for the first voice, whatever a pending retry says
    return voice;
}

int PipeWirePlayer::on_fd(int, std::uint32_t, void* data) {
    auto* self = static_cast<PipeWirePlayer*>(data);
    pw_loop_iterate(self->loop_, 0);
    return 0;
}

int PipeWirePlayer::on_retry(void* data) {
    static_cast<PipeWirePlayer*>(data)->try_connect();
    return 0;
}

void PipeWirePlayer::try_connect() {
    // Nobody to play for: no connection and no retries until a guest has a voice again.
    if (core_ || !context_ || voices_.empty())
        return;
    core_ = pw_context_connect(context_, nullptr, 0);
    if (!core_) {
        std::string problem = fmt::format("no sound server ({})", std::strerror(errno));
        if (problem != problem_) {
            log::warn("audio: {}; guests play nowhere until PipeWire runs", problem);
            problem_ = std::move(problem);
            if (changed_)
                changed_();
        }
        wl_event_source_timer_update(retry_timer_.get(), retry_ms_);
        retry_ms_ = std::min(retry_ms_ * 2, max_retry_ms);
        return;
    }
    core_hook_ = std::make_unique<CoreHook>();
    core_hook_->events.version = PW_VERSION_CORE_EVENTS;
    core_hook_->events.error = [](void* data, std::uint32_t id, int, int res, const char* message) {
        auto* self = static_cast<PipeWirePlayer*>(data);
        if (id == PW_ID_CORE && res == -EPIPE)
            self->lost(fmt::format("the sound server went away ({})", message ? message : "connection closed"));
        else
            log::warn("audio: PipeWire error on object {}: {} ({})", id, message ? message : "", std::strerror(-res));
    };
    pw_core_add_listener(core_, &core_hook_->hook, &core_hook_->events, this);
    log::info("audio: connected to PipeWire");
    problem_.clear();
    retry_ms_ = first_retry_ms;
    for (PipeWireVoice* voice : voices_)
        voice->open_stream(core_);
    if (changed_)
        changed_();
}

void PipeWirePlayer::lost(std::string why) {
    if (lost_idle_)
        return;
    lost_reason_ = std::move(why);
    lost_idle_.reset(wl_event_loop_add_idle(wl_loop_, on_lost, this));
}

void PipeWirePlayer::on_lost(void* data) {
    auto* self = static_cast<PipeWirePlayer*>(data);
    (void)self->lost_idle_.release(); // wayland removes an idle source after dispatching it
    log::warn("audio: {}; guests play nowhere until it is back", self->lost_reason_);
    self->disconnect();
    self->problem_ = "no sound server (" + self->lost_reason_ + ")";
    wl_event_source_timer_update(self->retry_timer_.get(), self->retry_ms_);
    if (self->changed_)
        self->changed_();
}

void PipeWirePlayer::disconnect() {
    if (!core_)
        return;
    for (PipeWireVoice* voice : voices_)
        voice->close_stream();
    spa_hook_remove(&core_hook_->hook);
    pw_core_disconnect(core_);
    core_ = nullptr;
    core_hook_.reset();
}

// ---- PipeWireVoice ----

struct PipeWireVoice::StreamHook {
    spa_hook hook{};
    pw_stream_events events{};
};

namespace {

spa_audio_format spa_format(const PcmFormat& f) {
    if (f.is_float)
        return f.big_endian ? SPA_AUDIO_FORMAT_F32_BE : SPA_AUDIO_FORMAT_F32_LE;
    switch (f.bits) {
    case 8: return f.is_signed ? SPA_AUDIO_FORMAT_S8 : SPA_AUDIO_FORMAT_U8;
    case 16:
        if (f.is_signed)
            return f.big_endian ? SPA_AUDIO_FORMAT_S16_BE : SPA_AUDIO_FORMAT_S16_LE;
        return f.big_endian ? SPA_AUDIO_FORMAT_U16_BE : SPA_AUDIO_FORMAT_U16_LE;
    default:
        if (f.is_signed)
            return f.big_endian ? SPA_AUDIO_FORMAT_S32_BE : SPA_AUDIO_FORMAT_S32_LE;
        return f.big_endian ? SPA_AUDIO_FORMAT_U32_BE : SPA_AUDIO_FORMAT_U32_LE;
    }
}

// QEMU's channel order for 1..8 channels (the usual WAVE/ALSA one).
void set_positions(spa_audio_info_raw& info) {
    static constexpr std::uint32_t order[] = {SPA_AUDIO_CHANNEL_FL, SPA_AUDIO_CHANNEL_FR, SPA_AUDIO_CHANNEL_RL,
                                              SPA_AUDIO_CHANNEL_RR, SPA_AUDIO_CHANNEL_FC, SPA_AUDIO_CHANNEL_LFE,
                                              SPA_AUDIO_CHANNEL_SL, SPA_AUDIO_CHANNEL_SR};
    if (info.channels == 1) {
        info.position[0] = SPA_AUDIO_CHANNEL_MONO;
        return;
    }
    for (std::uint32_t i = 0; i < info.channels && i < std::size(order); ++i)
        info.position[i] = order[i];
}

} // namespace

PipeWireVoice::PipeWireVoice(PipeWirePlayer& player, std::string name, const PcmFormat& format,
                             VoiceDirection direction)
    : player_(player), name_(std::move(name)), format_(format), direction_(direction),
      volumes_(format.channels, 1.0f) {
    std::size_t capacity = std::size_t(format.bytes_per_second()) * buffer_ms / 1000;
    capacity -= capacity % format.bytes_per_frame;
    ring_.resize(std::max<std::size_t>(capacity, format.bytes_per_frame));
    player_.voices_.insert(this);
    if (player_.core_)
        open_stream(player_.core_);
}

PipeWireVoice::~PipeWireVoice() {
    close_stream();
    player_.voices_.erase(this);
}

void PipeWireVoice::write(std::span<const std::uint8_t> samples) {
    if (samples.empty() || ring_.empty())
        return; // an empty Write's data may be null, which memcpy must not get
    // Only the newest buffer_ms are kept: the guest's clock runs ahead of the sound card's.
    if (samples.size() > ring_.size()) {
        dropped_ += samples.size() - ring_.size();
        samples = samples.last(ring_.size());
    }
    if (size_ + samples.size() > ring_.size()) {
        const std::size_t excess = size_ + samples.size() - ring_.size();
        head_ = (head_ + excess) % ring_.size();
        size_ -= excess;
        dropped_ += excess;
    }
    std::size_t tail = (head_ + size_) % ring_.size();
    const std::size_t first = std::min(samples.size(), ring_.size() - tail);
    std::memcpy(ring_.data() + tail, samples.data(), first);
    std::memcpy(ring_.data(), samples.data() + first, samples.size() - first);
    size_ += samples.size();
    if (size_ >= std::size_t(format_.bytes_per_second()) * prebuffer_ms / 1000)
        primed_ = true;
}

std::size_t PipeWireVoice::read(std::span<std::uint8_t> out) {
    const std::size_t bytes = take(out.data(), std::min(out.size(), size_));
    played_ += bytes;
    return bytes;
}

// Moves `bytes` (at most size_) from the ring's head into `out`.
std::size_t PipeWireVoice::take(std::uint8_t* out, std::size_t bytes) {
    for (std::size_t copied = 0; copied < bytes;) {
        const std::size_t run = std::min(bytes - copied, ring_.size() - head_);
        std::memcpy(out + copied, ring_.data() + head_, run);
        head_ = (head_ + run) % ring_.size();
        copied += run;
    }
    size_ -= bytes;
    return bytes;
}

void PipeWireVoice::clear() {
    head_ = size_ = 0;
    primed_ = false;
}

void PipeWireVoice::set_volume(bool mute, std::span<const std::uint8_t> levels) {
    mute_ = mute;
    for (std::size_t i = 0; i < volumes_.size(); ++i) {
        // A guest that gives fewer levels than channels means the last one for the rest.
        const std::uint8_t level = levels.empty() ? 255 : levels[std::min(i, levels.size() - 1)];
        volumes_[i] = level / 255.0f;
    }
    apply_volume();
}

void PipeWireVoice::set_active(bool active) {
    if (active == active_)
        return;
    active_ = active;
    if (stream_)
        pw_stream_set_active(stream_, active);
}

void PipeWireVoice::apply_volume() {
    if (!stream_)
        return;
    float mute = mute_ ? 1.0f : 0.0f;
    pw_stream_set_control(stream_, SPA_PROP_channelVolumes, static_cast<std::uint32_t>(volumes_.size()),
                          volumes_.data(), SPA_PROP_mute, 1, &mute, 0);
}

void PipeWireVoice::open_stream(pw_core* core) {
    close_stream();
    const bool playback = direction_ == VoiceDirection::Playback;
    pw_properties* props = pw_properties_new(PW_KEY_MEDIA_TYPE, "Audio", PW_KEY_MEDIA_CATEGORY,
                                             playback ? "Playback" : "Capture", PW_KEY_MEDIA_ROLE,
                                             playback ? "Game" : "Communication", PW_KEY_APP_NAME, "phyllome-shell",
                                             PW_KEY_NODE_NAME, name_.c_str(), PW_KEY_MEDIA_NAME, name_.c_str(),
                                             nullptr);
    // About 20 ms a cycle: QEMU writes every 10 ms, so this keeps latency low without underruns.
    pw_properties_setf(props, PW_KEY_NODE_LATENCY, "%u/%u", format_.rate / 50, format_.rate);
    stream_ = pw_stream_new(core, name_.c_str(), props);
    if (!stream_) {
        log::warn("audio: {}: cannot make a PipeWire stream: {}", name_, std::strerror(errno));
        return;
    }
    hook_ = std::make_unique<StreamHook>();
    hook_->events.version = PW_VERSION_STREAM_EVENTS;
    hook_->events.process = on_process;
    hook_->events.state_changed = [](void* data, pw_stream_state, pw_stream_state state, const char* error) {
        auto* self = static_cast<PipeWireVoice*>(data);
        if (state == PW_STREAM_STATE_ERROR)
            log::warn("audio: {}: PipeWire stream failed: {}", self->name_, error ? error : "unknown error");
        else if (state == PW_STREAM_STATE_PAUSED || state == PW_STREAM_STATE_STREAMING)
            self->apply_volume();
    };
    pw_stream_add_listener(stream_, &hook_->hook, &hook_->events, this);

    spa_audio_info_raw info{};
    info.format = spa_format(format_);
    info.rate = format_.rate;
    info.channels = format_.channels;
    set_positions(info);
    std::uint8_t pod_buffer[1024];
    spa_pod_builder builder = SPA_POD_BUILDER_INIT(pod_buffer, sizeof pod_buffer);
    const spa_pod* params[1] = {spa_format_audio_raw_build(&builder, SPA_PARAM_EnumFormat, &info)};
    const int r = pw_stream_connect(stream_, playback ? PW_DIRECTION_OUTPUT : PW_DIRECTION_INPUT, PW_ID_ANY,
                                    static_cast<pw_stream_flags>(PW_STREAM_FLAG_AUTOCONNECT | PW_STREAM_FLAG_MAP_BUFFERS |
                                                                 (active_ ? 0 : PW_STREAM_FLAG_INACTIVE)),
                                    params, 1);
    if (r < 0) {
        log::warn("audio: {}: cannot connect the PipeWire stream: {}", name_, std::strerror(-r));
        close_stream();
    }
}

void PipeWireVoice::close_stream() {
    if (!stream_)
        return;
    spa_hook_remove(&hook_->hook);
    pw_stream_destroy(stream_);
    stream_ = nullptr;
    hook_.reset();
}

void PipeWireVoice::on_process(void* data) {
    auto* self = static_cast<PipeWireVoice*>(data);
    pw_buffer* buffer = pw_stream_dequeue_buffer(self->stream_);
    if (!buffer)
        return;
    if (buffer->buffer->datas[0].data) {
        if (self->direction_ == VoiceDirection::Playback)
            self->play(buffer);
        else
            self->capture(buffer);
    }
    pw_stream_queue_buffer(self->stream_, buffer);
}

void PipeWireVoice::capture(pw_buffer* buffer) {
    const spa_data& d = buffer->buffer->datas[0];
    const std::uint32_t offset = std::min(d.chunk->offset, d.maxsize);
    const std::uint32_t size = std::min(d.chunk->size, d.maxsize - offset);
    write({static_cast<const std::uint8_t*>(d.data) + offset, size - size % format_.bytes_per_frame});
}

void PipeWireVoice::play(pw_buffer* buffer) {
    spa_data& d = buffer->buffer->datas[0];
    const std::uint32_t stride = format_.bytes_per_frame;
    std::uint64_t frames = d.maxsize / stride;
    if (buffer->requested > 0)
        frames = std::min<std::uint64_t>(frames, buffer->requested);
    const std::size_t want = std::size_t(frames) * stride;
    auto* out = static_cast<std::uint8_t*>(d.data);
    const std::size_t have = take(out, primed_ ? std::min(want, size_) : 0);
    played_ += have;
    if (have < want) {
        silence(format_, {out + have, want - have});
        primed_ = false; // ran dry: wait for prebuffer_ms again
    }
    d.chunk->offset = 0;
    d.chunk->stride = static_cast<std::int32_t>(stride);
    d.chunk->size = static_cast<std::uint32_t>(want);
}

} // namespace phyllome::guestview
