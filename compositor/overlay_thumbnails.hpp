// Live thumbnails of the running guests on the overlay: each is a scene buffer showing the frame
// the shell already holds for that guest, scaled by the renderer into its row (no copy, no
// scaling of ours). While the overlay is up a timer refreshes them a few times a second, and only
// those whose guest drew since; while it is down there is no timer and no node, and no frame is
// held for them.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "compositor/wlr.hpp"
#include "guestview/display/frame.hpp"
#include "guestview/event_source.hpp"

namespace phyllome::compositor {

class OverlayThumbnails {
public:
    struct GuestFrame {
        std::shared_ptr<const guestview::Frame> frame; // null: nothing to show
        std::uint64_t serial = 0;                      // grows with every frame message
    };
    using FrameOf = std::function<GuestFrame(const std::string& guest)>;
    struct Spot {
        std::string guest;
        wlr_box box; // layout coordinates
    };

    OverlayThumbnails(wl_event_loop* loop, wlr_scene_tree* layer, wlr_renderer* renderer, FrameOf frame_of);
    ~OverlayThumbnails();
    OverlayThumbnails(const OverlayThumbnails&) = delete;
    OverlayThumbnails& operator=(const OverlayThumbnails&) = delete;

    // The overlay was painted with these places (every output's): thumbnails go there now.
    void place(std::vector<Spot> spots);
    // The overlay left the screen: every node and frame goes, and the timer stops.
    void clear();
    std::uint64_t refreshes() const { return refreshes_; } // thumbnails redrawn so far
    std::size_t shown() const;                              // thumbnails with a picture now

    static constexpr int refresh_ms = 250;

private:
    struct Thumb {
        Spot spot;
        wlr_scene_buffer* node = nullptr;
        const guestview::Frame* frame = nullptr;
        std::uint64_t serial = 0;
    };
    void refresh();
    void update(Thumb& t);
    void drop_node(Thumb& t);
    static int on_timer(void* data);

    wl_event_loop* loop_;
    wlr_scene_tree* tree_;
    wlr_renderer* renderer_;
    FrameOf frame_of_;
    std::vector<Thumb> thumbs_;
    guestview::EventSourcePtr timer_;
    std::uint64_t refreshes_ = 0;
};

} // namespace phyllome::compositor
