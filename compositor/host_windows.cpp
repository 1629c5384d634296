#include "compositor/host_windows.hpp"

#include <algorithm>

#include "compositor/seat.hpp"

namespace phyllome::compositor {

HostWindows::HostWindows(wlr_xdg_shell* shell, wlr_scene_node* layer, Seat& seat,
                         const std::list<std::unique_ptr<Output>>& outputs)
    : layer_(layer), seat_(seat), outputs_(outputs) {
    new_surface_.connect(&shell->events.new_surface, [this](wlr_xdg_surface* surface) {
        if (surface->role == WLR_XDG_SURFACE_ROLE_POPUP) {
            wlr_xdg_surface* parent = wlr_xdg_surface_from_wlr_surface(surface->popup->parent);
            if (parent && parent->data)
                surface->data = wlr_scene_xdg_surface_create(static_cast<wlr_scene_node*>(parent->data), surface);
            return;
        }
        if (surface->role == WLR_XDG_SURFACE_ROLE_TOPLEVEL)
            views_.push_front(std::make_unique<XdgView>(layer_, seat_.wlr(), static_cast<ViewHost&>(*this), surface));
    });
}

HostWindows::~HostWindows() {
    new_surface_.disconnect();
    views_.clear();
}

XdgView* HostWindows::focused() const {
    for (const auto& v : views_)
        if (v->mapped())
            return v.get();
    return nullptr;
}

void HostWindows::refit() {
    if (XdgView* v = focused(); v && !outputs_.empty())
        v->fill(outputs_.front()->layout_box());
}

void HostWindows::view_mapped(XdgView& view) {
    auto it = std::find_if(views_.begin(), views_.end(), [&](const auto& v) { return v.get() == &view; });
    if (it != views_.end())
        views_.splice(views_.begin(), views_, it);
    if (!outputs_.empty())
        view.fill(outputs_.front()->layout_box());
    view.focus();
}

void HostWindows::view_unmapped(XdgView&) { focus_top(); }

void HostWindows::view_destroyed(XdgView& view) {
    views_.remove_if([&](const auto& v) { return v.get() == &view; });
    focus_top();
}

void HostWindows::focus_top() {
    if (XdgView* v = focused()) {
        v->focus();
        return;
    }
    seat_.clear_focus();
}

} // namespace phyllome::compositor
