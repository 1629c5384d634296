#include "compositor/host_windows.hpp"

#include <algorithm>

#include "compositor/seat.hpp"
#include "config/log.hpp"

namespace phyllome::compositor {

HostWindows::HostWindows(wlr_xdg_shell* shell, wlr_scene_tree* layer, Seat& seat,
                         const std::list<std::unique_ptr<Output>>& outputs)
    : layer_(layer), seat_(seat), outputs_(outputs) {
    new_toplevel_.connect(&shell->events.new_toplevel, [this](wlr_xdg_toplevel* toplevel) {
        views_.push_back(
            std::make_unique<XdgView>(layer_, seat_.wlr(), static_cast<ViewHost&>(*this), toplevel, next_id_++));
    });
    new_popup_.connect(&shell->events.new_popup, [this](wlr_xdg_popup* popup) { add_popup(popup); });
}

HostWindows::~HostWindows() {
    new_toplevel_.disconnect();
    new_popup_.disconnect();
    events_ = {};
    popups_.clear();
    front_ = nullptr;
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

std::vector<XdgView*> HostWindows::mapped() const {
    std::vector<XdgView*> out;
    for (const auto& v : views_)
        if (v->mapped())
            out.push_back(v.get());
    return out;
}

XdgView* HostWindows::find(std::uint64_t id) const {
    for (const auto& v : views_)
        if (v->id() == id)
            return v.get();
    return nullptr;
}

wlr_box HostWindows::first_output_box() const {
    // With no output yet, size 0x0: the client picks its own until an output comes.
    return outputs_.empty() ? wlr_box{} : outputs_.front()->layout_box();
}

void HostWindows::show(XdgView& view) {
    if (front_ && front_ != &view)
        front_->set_shown(false);
    front_ = &view;
    view.fill(first_output_box());
    view.set_shown(true);
}

void HostWindows::hide() {
    if (!front_)
        return;
    std::exchange(front_, nullptr)->set_shown(false);
    seat_.clear_focus();
}

void HostWindows::refit() {
    for (XdgView* v : mapped())
        v->fill(first_output_box());
}

void HostWindows::view_initial_commit(XdgView& view) { view.fill(first_output_box()); }

void HostWindows::view_mapped(XdgView& view) {
    view.fill(first_output_box());
    log::info("window {} ({}) opened", view.id(), view.label());
    if (events_.opened)
        events_.opened(view);
}

void HostWindows::view_unmapped(XdgView& view) { closed(view, false); }

void HostWindows::view_renamed(XdgView&) {
    if (events_.renamed)
        events_.renamed();
}

void HostWindows::view_destroyed(XdgView& view) {
    if (view.mapped() || front_ == &view)
        closed(view, true); // destroyed without an unmap first
    views_.remove_if([&](const auto& v) { return v.get() == &view; });
}

void HostWindows::closed(XdgView& view, bool destroying) {
    const bool was_front = front_ == &view;
    if (was_front) {
        front_ = nullptr;
        if (!destroying) // a surface being destroyed takes its scene node and focus with it
            view.set_shown(false);
        seat_.clear_focus();
    }
    log::info("window {} ({}) closed", view.id(), view.label());
    if (events_.closed)
        events_.closed(view, was_front);
}

} // namespace phyllome::compositor
