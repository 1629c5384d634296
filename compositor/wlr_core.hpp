// The wlroots core: the Wayland display and its loop, the backend, renderer and allocator, the
// protocols every session offers (compositor, data device, xdg-output, screencopy, xdg-shell),
// the output layout and the scene with its layers. Everything else in the shell hangs off it.
#pragma once

#include <stdexcept>
#include <string>

#include "compositor/wlr.hpp"

namespace phyllome::compositor {

// A wlroots constructor's result, or std::runtime_error naming what failed.
template <typename T>
T* wlr_require(T* p, const char* what) {
    if (!p)
        throw std::runtime_error(std::string("wlroots: ") + what + " failed");
    return p;
}

class WlrCore {
public:
    WlrCore(); // throws std::runtime_error naming the failed step
    ~WlrCore();
    WlrCore(const WlrCore&) = delete;
    WlrCore& operator=(const WlrCore&) = delete;

    // Opens the Wayland socket (and sets WAYLAND_DISPLAY) and starts the backend, which then
    // announces its outputs and input devices.
    void start();
    // The backend goes first at shutdown, while its outputs' owners can still take them down.
    void destroy_backend();

    wl_display* display() const { return display_; }
    wl_event_loop* loop() const { return loop_; }
    wlr_backend* backend() const { return backend_; }
    wlr_renderer* renderer() const { return renderer_; }
    wlr_allocator* allocator() const { return allocator_; }
    wlr_output_layout* output_layout() const { return output_layout_; }
    wlr_scene* scene() const { return scene_; }
    // Ties the scene's view of `output` to its place in the layout (wlroots no longer does it by
    // itself): the output shows the scene from its layout position, and stops when it leaves.
    void place_in_scene(wlr_output* output, wlr_output_layout_output* placed);
    // The session when the backend runs on a VT (seatd or logind), else null.
    wlr_session* session() const { return session_; }
    wlr_xdg_shell* xdg_shell() const { return xdg_shell_; }
    // Z order, bottom to top.
    wlr_scene_tree* guest_layer() const { return guest_layer_; }
    wlr_scene_tree* view_layer() const { return view_layer_; } // host applications' windows
    wlr_scene_tree* overlay_layer() const { return overlay_layer_; }
    wlr_scene_tree* osd_layer() const { return osd_layer_; } // the identity banner and edge
    wlr_scene_tree* lock_layer() const { return lock_layer_; } // the session lock's blank and its locker

private:
    wl_display* display_ = nullptr;
    wl_event_loop* loop_ = nullptr;
    wlr_backend* backend_ = nullptr;
    wlr_session* session_ = nullptr;
    wlr_renderer* renderer_ = nullptr;
    wlr_allocator* allocator_ = nullptr;
    wlr_output_layout* output_layout_ = nullptr;
    wlr_scene* scene_ = nullptr;
    wlr_scene_output_layout* scene_layout_ = nullptr;
    wlr_scene_tree* guest_layer_ = nullptr;
    wlr_scene_tree* overlay_layer_ = nullptr;
    wlr_scene_tree* osd_layer_ = nullptr;
    wlr_scene_tree* view_layer_ = nullptr;
    wlr_scene_tree* lock_layer_ = nullptr;
    wlr_xdg_shell* xdg_shell_ = nullptr;
};

} // namespace phyllome::compositor
