#include "compositor/wlr_core.hpp"

#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <utility>

#include "config/log.hpp"

namespace phyllome::compositor {
namespace {
// The protocol versions we implement the behaviour of (wlroots supports these and later).
constexpr std::uint32_t compositor_version = 6;
constexpr std::uint32_t xdg_shell_version = 3;
} // namespace

WlrCore::WlrCore() {
    display_ = wlr_require(wl_display_create(), "wl_display_create");
    loop_ = wl_display_get_event_loop(display_);
    backend_ = wlr_require(wlr_backend_autocreate(loop_, &session_), "creating a backend (wlr_backend_autocreate)");
    renderer_ = wlr_require(wlr_renderer_autocreate(backend_), "creating a renderer");
    wlr_renderer_init_wl_display(renderer_, display_);
    allocator_ = wlr_require(wlr_allocator_autocreate(backend_, renderer_), "creating an allocator");

    wlr_require(wlr_compositor_create(display_, compositor_version, renderer_), "wlr_compositor_create");
    wlr_require(wlr_subcompositor_create(display_), "wlr_subcompositor_create");
    wlr_require(wlr_data_device_manager_create(display_), "wlr_data_device_manager_create");
    // Hidden unless [security] allow_data_control (protocol_policy.cpp).
    wlr_require(wlr_data_control_manager_v1_create(display_), "wlr-data-control");
    output_layout_ = wlr_require(wlr_output_layout_create(display_), "wlr_output_layout_create");
    wlr_require(wlr_xdg_output_manager_v1_create(display_, output_layout_), "xdg-output");
    wlr_require(wlr_screencopy_manager_v1_create(display_), "wlr-screencopy");

    scene_ = wlr_require(wlr_scene_create(), "wlr_scene_create");
    scene_layout_ = wlr_require(wlr_scene_attach_output_layout(scene_, output_layout_), "scene output layout");
    // No background node: the scene clears to black only what no opaque node covers.
    // Host windows sit with the guests, under the overlay and the banner: nothing a client
    // draws can cover the shell's own surfaces.
    guest_layer_ = wlr_require(wlr_scene_tree_create(&scene_->tree), "scene tree");
    view_layer_ = wlr_require(wlr_scene_tree_create(&scene_->tree), "scene tree");
    overlay_layer_ = wlr_require(wlr_scene_tree_create(&scene_->tree), "scene tree");
    osd_layer_ = wlr_require(wlr_scene_tree_create(&scene_->tree), "scene tree");
    // Last, so topmost: while the session is locked nothing else may show.
    lock_layer_ = wlr_require(wlr_scene_tree_create(&scene_->tree), "scene tree");

    xdg_shell_ = wlr_require(wlr_xdg_shell_create(display_, xdg_shell_version), "wlr_xdg_shell_create");
}

void WlrCore::place_in_scene(wlr_output* output, wlr_output_layout_output* placed) {
    if (!placed || wlr_scene_get_scene_output(scene_, output))
        return; // already shown: the layout helper moves it with its layout position
    wlr_scene_output* scene_output = wlr_require(wlr_scene_output_create(scene_, output), "wlr_scene_output_create");
    wlr_scene_output_layout_add_output(scene_layout_, placed, scene_output);
}

void WlrCore::start() {
    const char* socket = wl_display_add_socket_auto(display_);
    if (!socket)
        throw std::runtime_error("cannot open a Wayland socket (is XDG_RUNTIME_DIR set and writable?)");
    setenv("WAYLAND_DISPLAY", socket, 1);
    log::info("Wayland display {}", socket);
    if (!wlr_backend_start(backend_))
        throw std::runtime_error("cannot start the backend (no seat access? try from a VT with seatd or logind)");
}

void WlrCore::destroy_backend() {
    if (backend_)
        wlr_backend_destroy(std::exchange(backend_, nullptr));
}

WlrCore::~WlrCore() {
    if (display_)
        wl_display_destroy_clients(display_);
    destroy_backend();
    if (scene_)
        wlr_scene_node_destroy(&scene_->tree.node);
    if (output_layout_)
        wlr_output_layout_destroy(output_layout_);
    if (allocator_)
        wlr_allocator_destroy(allocator_);
    if (renderer_)
        wlr_renderer_destroy(renderer_);
    if (display_)
        wl_display_destroy(display_);
}

} // namespace phyllome::compositor
