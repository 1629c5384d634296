#include "compositor/xdg_view.hpp"

#include "compositor/wlr_core.hpp"

namespace phyllome::compositor {

XdgView::XdgView(wlr_scene_tree* layer, wlr_seat* seat, ViewHost& host, wlr_xdg_toplevel* toplevel, std::uint64_t id)
    : seat_(seat), host_(host), toplevel_(toplevel), id_(id) {
    tree_ = wlr_require(wlr_scene_xdg_surface_create(layer, toplevel_->base), "scene tree for a window");
    // Hidden until the user switches to it: a new window never covers what the user looks at.
    wlr_scene_node_set_enabled(&tree_->node, false);
    toplevel_->base->data = tree_; // popups find their parent's scene tree here
    wlr_surface* surface = toplevel_->base->surface;
    commit_.connect(&surface->events.commit, [this](void*) {
        if (toplevel_->base->initial_commit)
            host_.view_initial_commit(*this);
    });
    map_.connect(&surface->events.map, [this](void*) {
        mapped_ = true;
        host_.view_mapped(*this);
    });
    unmap_.connect(&surface->events.unmap, [this](void*) {
        mapped_ = false;
        host_.view_unmapped(*this);
    });
    destroy_.connect(&toplevel_->events.destroy, [this](void*) { host_.view_destroyed(*this); });
    // Every toplevel is fullscreen here; answer requests by re-asserting that.
    request_fullscreen_.connect(&toplevel_->events.request_fullscreen, [this](void*) { configure(); });
    request_maximize_.connect(&toplevel_->events.request_maximize, [this](void*) { configure(); });
    set_title_.connect(&toplevel_->events.set_title, [this](void*) { host_.view_renamed(*this); });
    set_app_id_.connect(&toplevel_->events.set_app_id, [this](void*) { host_.view_renamed(*this); });
}

XdgView::~XdgView() {
    // The scene tree goes with the surface; only our back-pointer must not dangle.
    toplevel_->base->data = nullptr;
}

std::string XdgView::label() const {
    if (toplevel_->title && *toplevel_->title)
        return toplevel_->title;
    if (toplevel_->app_id && *toplevel_->app_id)
        return toplevel_->app_id;
    return "Window";
}

std::string XdgView::app_id() const { return toplevel_->app_id ? toplevel_->app_id : ""; }

void XdgView::configure() {
    if (toplevel_->base->initialized)
        wlr_xdg_surface_schedule_configure(toplevel_->base);
}

void XdgView::fill(const wlr_box& box) {
    wlr_scene_node_set_position(&tree_->node, box.x, box.y);
    if (!toplevel_->base->initialized)
        return; // view_initial_commit fills it again
    wlr_xdg_toplevel_set_fullscreen(toplevel_, true);
    wlr_xdg_toplevel_set_size(toplevel_, static_cast<int32_t>(box.width), static_cast<int32_t>(box.height));
}

void XdgView::set_shown(bool shown) {
    shown_ = shown;
    wlr_scene_node_set_enabled(&tree_->node, shown);
    if (toplevel_->base->initialized)
        wlr_xdg_toplevel_set_activated(toplevel_, shown);
    if (!shown)
        return;
    if (wlr_keyboard* kb = wlr_seat_get_keyboard(seat_))
        wlr_seat_keyboard_notify_enter(seat_, toplevel_->base->surface, kb->keycodes, kb->num_keycodes,
                                       &kb->modifiers);
}

} // namespace phyllome::compositor
