// One wlr_output: its mode from the config, its place in the layout, its frame loop and the
// overlay picture drawn for its size.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "compositor/listener.hpp"
#include "compositor/overlay_model.hpp"
#include "compositor/scene_buffer_util.hpp"
#include "compositor/wlr.hpp"
#include "compositor/wlr_core.hpp"
#include "config/config.hpp"

namespace phyllome::compositor {

class Output;
struct OverlayPaintInput;

// An output state for one commit or test, finished however it ends.
struct OutputState {
    wlr_output_state state;
    OutputState() { wlr_output_state_init(&state); }
    ~OutputState() { wlr_output_state_finish(&state); }
    OutputState(const OutputState&) = delete;
    OutputState& operator=(const OutputState&) = delete;
};

// What an output tells the rest of the shell, and asks of it.
class OutputHost {
public:
    virtual ~OutputHost() = default;
    // The wlr_output is going away: drop everything that refers to this Output (it is freed).
    virtual void output_destroyed(Output& output) = 0;
    virtual void output_mode_changed(Output& output) = 0;
    // A commit put a new picture on screen (`first`: this output's first ever).
    virtual void output_presented(Output& output, bool first) = 0;
};

class Output {
public:
    // `config` is the shell's, read again at every apply_config().
    Output(WlrCore& core, const config::Config& config, OutputHost& host, wlr_output* output);
    ~Output();
    Output(const Output&) = delete;
    Output& operator=(const Output&) = delete;

    wlr_output* wlr() const { return output_; }
    wlr_box layout_box() const;
    // Repaints the overlay for this output's current size.
    void paint_overlay(const OverlayPaintInput& input);
    const OverlayHitMap& overlay_hits() const { return hits_; }
    // Frees the overlay's picture while it is hidden; its hit areas stay for the status.
    void drop_overlay_picture();
    bool has_overlay_picture() const { return overlay_node_ != nullptr; }
    bool has_committed_frame() const { return frames_committed_ > 0; }
    // Commits that showed a guest frame's own buffer instead of painting it (direct scan-out,
    // which the scene does by itself when one buffer alone covers the output pixel for pixel).
    unsigned long scanout_commits() const { return scanout_commits_; }
    bool scanning_out() const { return scanning_out_; }
    // Places the overlay picture at the output's position in the layout.
    void update_position();
    // Paints and commits what the scene holds now rather than at the next frame event: a
    // switch or the first frame should not wait up to a refresh for a timer.
    void present_now();

    // Mode, scale, transform, position and enablement from the server's config (at start and on
    // reload).
    void apply_config();
    // Into the layout at `position` (unset: right of the others), shown by the scene there.
    void place(std::optional<std::pair<int, int>> position);
    // Out of the layout: nothing is placed on it any more (it is off, or about to be).
    void leave_layout();
    bool in_layout() const;
    // "1280x800 scale 1 transform 90 at 0,0" for the log.
    std::string describe() const;
    // Bytes of this output's own pictures in memory: the buffers it showed that live in
    // shared memory (a CPU renderer's swapchain) and the overlay picture.
    std::size_t picture_bytes() const;

private:
    void on_frame();
    void on_commit(const wlr_output_event_commit& event);
    // Commits `state`; on failure logs what `what` names and returns false.
    bool commit(wlr_output_state& state, const char* what);
    // The enabled output in a working mode: the config's, else the preferred one, else any.
    void apply_mode(const config::OutputConfig& oc);

    WlrCore& core_;
    const config::Config& config_;
    OutputHost& host_;
    wlr_output* output_;
    wlr_scene_buffer* overlay_node_ = nullptr;
    // The overlay picture stays ours while shown: the scene lets go of a buffer once it has a
    // texture, and the picture's memory is counted from here.
    BufferLock overlay_picture_;
    OverlayHitMap hits_;
    unsigned long frames_committed_ = 0;
    unsigned long scanout_commits_ = 0;
    bool scanning_out_ = false;
    // Scan-out just stopped: the next frame commits even without damage, so that the scene scans
    // out again once what stopped it has gone (a screenshot makes wlroots paint one frame).
    bool retry_scanout_ = false;
    // Keeps guestview from writing into the frame this output scans out (Frame::hold_pixels).
    std::shared_ptr<const void> scanout_hold_;

    Listener<void> frame_;
    Listener<void> destroy_;
    Listener<wlr_output_event_commit> commit_;
    Listener<wlr_output_event_request_state> request_state_;
};

} // namespace phyllome::compositor
