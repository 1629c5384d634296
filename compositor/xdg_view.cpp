#include "compositor/xdg_view.hpp"

namespace phyllome::compositor {

XdgView::XdgView(wlr_scene_node* layer, wlr_seat* seat, ViewHost& host, wlr_xdg_surface* surface)
    : seat_(seat), host_(host), surface_(surface) {
    node_ = wlr_scene_xdg_surface_create(layer, surface_);
    node_->data = this;
    surface_->data = node_; // popups find their parent's scene node here
    map_.connect(&surface_->events.map, [this](void*) {
        mapped_ = true;
        host_.view_mapped(*this);
    });
    unmap_.connect(&surface_->events.unmap, [this](void*) {
        mapped_ = false;
        host_.view_unmapped(*this);
    });
    destroy_.connect(&surface_->events.destroy, [this](void*) { host_.view_destroyed(*this); });
    // Every toplevel is fullscreen here; answer requests by re-asserting that.
    request_fullscreen_.connect(&surface_->toplevel->events.request_fullscreen,
                                [this](void*) { wlr_xdg_surface_schedule_configure(surface_); });
    request_maximize_.connect(&surface_->toplevel->events.request_maximize,
                              [this](void*) { wlr_xdg_surface_schedule_configure(surface_); });
}

XdgView::~XdgView() {
    // The scene node goes with the surface; only our back-pointer must not dangle.
    if (surface_)
        surface_->data = nullptr;
}

void XdgView::fill(const wlr_box& box) {
    wlr_scene_node_set_position(node_, box.x, box.y);
    wlr_xdg_toplevel_set_fullscreen(surface_, true);
    wlr_xdg_toplevel_set_size(surface_, static_cast<uint32_t>(box.width), static_cast<uint32_t>(box.height));
}

void XdgView::focus() {
    wlr_scene_node_raise_to_top(node_);
    wlr_xdg_toplevel_set_activated(surface_, true);
    if (wlr_keyboard* kb = wlr_seat_get_keyboard(seat_))
        wlr_seat_keyboard_notify_enter(seat_, surface_->surface, kb->keycodes, kb->num_keycodes, &kb->modifiers);
}

} // namespace phyllome::compositor
