// One guest on screen: a scene subtree with, per output, the guest head's frame (letterboxed),
// its cursor, and a message while there is no picture. Hidden guests keep their subtree up to
// date but disabled, so showing one is a flag flip, not a reconnect.
#pragma once

#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "compositor/guest_placement.hpp"
#include "compositor/latency_stats.hpp"
#include "compositor/scene_buffer_util.hpp"
#include "compositor/scene_layer.hpp"
#include "compositor/wlr.hpp"
#include "guestview/display/frame.hpp"

namespace phyllome::compositor {

class Output;

struct GuestPoint {
    std::uint32_t console = 0;
    double x = 0, y = 0; // guest pixels
};

class GuestView {
public:
    GuestView(const SceneLayer& layer, std::string guest);
    ~GuestView();
    GuestView(const GuestView&) = delete;
    GuestView& operator=(const GuestView&) = delete;

    const std::string& guest() const { return guest_; }
    void set_visible(bool visible);
    bool visible() const { return visible_; }
    bool has_frame() const;
    // Adds the frames it holds (for memory accounting).
    void collect_frames(std::vector<const guestview::Frame*>& out) const;

    // Head N of the guest on output N; `consoles` are the graphic consoles, head 0 first
    // (head_order.hpp). Outputs beyond the guest's heads show head 0 again.
    void layout(const std::list<std::unique_ptr<Output>>& outputs, const std::vector<std::uint32_t>& consoles);
    // Forget an output before it is destroyed.
    void forget_output(const Output& output);

    void on_frame(std::uint32_t console, const guestview::FrameEvent& event);
    void on_display_off(std::uint32_t console);
    void on_cursor(std::uint32_t console, const guestview::CursorShape& shape);
    // The guest's idea of its pointer (relative mode draws the cursor there).
    void on_guest_pointer(std::uint32_t console, const guestview::PointerPosition& position);
    // Our pointer, in layout coordinates (absolute mode draws the cursor there, without lag).
    void on_host_pointer(double lx, double ly);
    void set_absolute(std::uint32_t console, bool absolute);

    // The guest point under a layout position, for absolute pointer input.
    std::optional<GuestPoint> to_guest(double lx, double ly) const;
    // The console shown on the output at this layout position, letterbox included.
    std::optional<std::uint32_t> console_at(double lx, double ly) const;
    // Output size of the first output showing `console`, for SetUIInfo.
    const Output* output_of(std::uint32_t console) const;
    // The guest's head `output` shows, if it shows one.
    std::optional<std::uint32_t> head_on(const Output& output) const;
    // The console of head `head`, if the guest has it.
    std::optional<std::uint32_t> console_of_head(std::uint32_t head) const;
    // Whether any output shows one of the guest's heads.
    bool shows_anything() const { return !slots_.empty(); }

    // An output committed: frames received since its last commit are now on screen.
    void on_output_commit(const Output& output);
    const LatencyStats& present_latency() const { return present_latency_; }
    std::uint64_t frames_presented() const { return frames_presented_; }

private:
    struct Slot {
        Output* output = nullptr;
        std::uint32_t console = 0;
        std::uint32_t head = 0; // console's place in heads_
        wlr_scene_buffer* frame_node = nullptr;
        // The frame's buffer stays ours while the node shows it: an Update may hand the same
        // buffer to the node again, and the scene lets go of a buffer once it has a texture.
        BufferLock frame_lock;
        wlr_scene_buffer* message_node = nullptr;
        wlr_scene_buffer* cursor_node = nullptr;
        Placement placement;
        std::optional<double> pending_since_ms; // oldest frame received and not yet committed
        // QEMU holds the guest's GL rendering until we have sampled its dmabuf: released at the
        // commit that shows the frame.
        std::vector<std::shared_ptr<guestview::SamplingDone>> sampling;
    };
    struct ConsoleState {
        std::shared_ptr<const guestview::Frame> frame;
        bool display_off = false;
        guestview::CursorShape cursor;
        guestview::PointerPosition guest_pointer;
        bool absolute = false;
        // Set while `frame` has a geometry the renderer cannot sample; a message is shown instead.
        std::optional<guestview::FrameGeometry> unshowable;
    };

    // False when the renderer cannot sample the frame (the caller shows a message instead).
    bool show_frame(Slot& slot, ConsoleState& state);
    void show_frame_or_message(Slot& slot, ConsoleState& state);
    void show_message(Slot& slot, const ConsoleState& state);
    void update_cursor(Slot& slot, const ConsoleState& state);
    void destroy_slot(Slot& slot);
    ConsoleState& state_of(std::uint32_t console) { return consoles_[console]; }

    SceneLayer layer_;
    std::string guest_;
    wlr_scene_tree* tree_ = nullptr;
    bool visible_ = false;
    std::vector<Slot> slots_;
    std::vector<std::uint32_t> heads_; // console ids, head 0 first
    std::map<std::uint32_t, ConsoleState> consoles_;
    std::optional<std::pair<double, double>> host_pointer_;
    LatencyStats present_latency_;
    std::uint64_t frames_presented_ = 0;
};

} // namespace phyllome::compositor
