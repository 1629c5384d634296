#include "compositor/host_windows.hpp"

#include <algorithm>

#include "compositor/seat.hpp"

namespace phyllome::compositor {

HostWindows::HostWindows(wlr_xdg_shell* shell, wlr_scene_tree* layer, Seat& seat,
                         const std::list<std::unique_ptr<Output>>& outputs)
    : layer_(layer), seat_(seat), outputs_(outputs) {
    new_toplevel_.connect(&shell->events.new_toplevel, [this](wlr_xdg_toplevel* toplevel) {
        views_.push_front(std::make_unique<XdgView>(layer_, seat_.wlr(), static_cast<ViewHost&>(*this), toplevel));
    });
    new_popup_.connect(&shell->events.new_popup, [this](wlr_xdg_popup* popup) { add_popup(popup); });
}

HostWindows::~HostWindows() {
    new_toplevel_.disconnect();
    new_popup_.disconnect();
    popups_.clear();
    views_.clear();
}

void HostWindows::add_popup(wlr_xdg_popup* popup) {
    wlr_xdg_surface* parent = popup->parent ? wlr_xdg_surface_try_from_wlr_surface(popup->parent) : nullptr;
    if (parent && parent->data)
        popup->base->data = wlr_scene_xdg_surface_create(static_cast<wlr_scene_tree*>(parent->data), popup->base);
    auto held = std::make_unique<Popup>();
    Popup* raw = held.get();
    raw->popup = popup;
    raw->commit.connect(&popup->base->surface->events.commit, [raw](void*) {
        if (raw->popup->base->initial_commit)
            wlr_xdg_surface_schedule_configure(raw->popup->base);
    });
    raw->destroy.connect(&popup->events.destroy, [this, raw](void*) {
        popups_.remove_if([raw](const auto& p) { return p.get() == raw; });
    });
    popups_.push_back(std::move(held));
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

void HostWindows::view_initial_commit(XdgView& view) {
    // With no output yet, size 0x0: the client picks its own until an output comes.
    view.fill(outputs_.empty() ? wlr_box{} : outputs_.front()->layout_box());
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
