// The shell's one connection to the user's PipeWire, driven from the compositor's
// wl_event_loop (PipeWire's own loop is polled through its fd, and the context runs without
// data-loop threads, so every callback runs on the loop thread), and the voices it plays.
//
// Nothing of PipeWire is loaded, and nothing connects, until a guest has a voice. Without a
// sound server (none running, or it went away) the player says so in problem(), tries again
// after 2 s, doubling to a minute, while any voice is left (an idle session stays idle), and
// voices simply play nowhere meanwhile; guests never notice.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "guestview/audio/pcm_format.hpp"
#include "guestview/event_source.hpp"

struct pw_loop;
struct pw_context;
struct pw_core;
struct pw_stream;
struct pw_buffer;
struct wl_event_loop;

namespace phyllome::guestview {

class PipeWireVoice;

enum class VoiceDirection { Playback, Capture };

class PipeWirePlayer {
public:
    // `changed` runs on the loop thread whenever connected() or problem() changes.
    PipeWirePlayer(wl_event_loop* loop, std::function<void()> changed);
    ~PipeWirePlayer(); // every voice must be gone first
    PipeWirePlayer(const PipeWirePlayer&) = delete;
    PipeWirePlayer& operator=(const PipeWirePlayer&) = delete;

    bool connected() const { return core_ != nullptr; }
    // Why nothing plays, e.g. "no sound server (Connection refused)"; empty while connected.
    const std::string& problem() const { return problem_; }

    // A playback (or capture) stream named `name` for samples in `format` (checked by
    // pcm_format_problem). It follows the server: made on every (re)connection.
    std::unique_ptr<PipeWireVoice> voice(std::string name, const PcmFormat& format,
                                         VoiceDirection direction = VoiceDirection::Playback);

    static constexpr int first_retry_ms = 2000, max_retry_ms = 60000;

private:
    friend class PipeWireVoice;
    void start();
    void try_connect();
    void lost(std::string why); // from a PipeWire callback: finished from an idle source
    void disconnect();
    static int on_fd(int fd, std::uint32_t mask, void* data);
    static int on_retry(void* data);
    static void on_lost(void* data);

    std::function<void()> changed_;
    wl_event_loop* wl_loop_;
    pw_loop* loop_ = nullptr;
    pw_context* context_ = nullptr;
    pw_core* core_ = nullptr;
    struct CoreHook;
    std::unique_ptr<CoreHook> core_hook_;
    std::string problem_;
    std::set<PipeWireVoice*> voices_;
    EventSourcePtr fd_source_;
    EventSourcePtr retry_timer_;
    EventSourcePtr lost_idle_;
    std::string lost_reason_;
    int retry_ms_ = first_retry_ms;
    bool started_ = false;
};

// One guest voice. Playback: samples in (write), a PipeWire stream out. Capture: a PipeWire
// stream (the default source) in, samples out (read). Bounded: at most `buffer_ms` of samples
// wait; more drops the oldest (one clock runs ahead of the other).
class PipeWireVoice {
public:
    PipeWireVoice(PipeWirePlayer& player, std::string name, const PcmFormat& format, VoiceDirection direction);
    ~PipeWireVoice();
    PipeWireVoice(const PipeWireVoice&) = delete;
    PipeWireVoice& operator=(const PipeWireVoice&) = delete;

    void write(std::span<const std::uint8_t> samples);
    // Capture: takes up to out.size() bytes of what was heard into `out`; returns how many.
    std::size_t read(std::span<std::uint8_t> out);
    void clear(); // forget what waits (the guest went quiet or was hidden)
    // QEMU's levels, 0..255 per channel; applied on every (re)connection.
    void set_volume(bool mute, std::span<const std::uint8_t> levels);
    // An inactive stream is paused in PipeWire's graph: no processing, no wake-ups (a hidden
    // guest that is not heard).
    void set_active(bool active);

    const PcmFormat& format() const { return format_; }
    bool streaming() const { return stream_ != nullptr; }
    std::uint64_t dropped_bytes() const { return dropped_; }
    std::uint64_t played_bytes() const { return played_; }

    static constexpr int buffer_ms = 200;
    static constexpr int prebuffer_ms = 30; // waited for after an underrun, so it does not crackle

private:
    friend class PipeWirePlayer;
    void open_stream(pw_core* core);
    void close_stream();
    void apply_volume();
    std::size_t take(std::uint8_t* out, std::size_t bytes);
    static void on_process(void* data);
    void play(pw_buffer* buffer);
    void capture(pw_buffer* buffer);

    PipeWirePlayer& player_;
    std::string name_;
    PcmFormat format_;
    VoiceDirection direction_;
    std::vector<std::uint8_t> ring_;
    std::size_t head_ = 0, size_ = 0; // read position and bytes waiting
    bool primed_ = false;             // enough waits to play
    bool mute_ = false;
    bool active_ = true;
    std::vector<float> volumes_;
    std::uint64_t dropped_ = 0, played_ = 0;
    pw_stream* stream_ = nullptr;
    struct StreamHook;
    std::unique_ptr<StreamHook> hook_;
};

} // namespace phyllome::guestview
