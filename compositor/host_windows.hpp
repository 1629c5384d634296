// Host applications' windows (a terminal, virt-manager): xdg-shell toplevels, each filling the
// first output above the overlay and the guests, the newest mapped one on top with the
// keyboard; popups follow their parent.
#pragma once

#include <list>
#include <memory>

#include "compositor/listener.hpp"
#include "compositor/output.hpp"
#include "compositor/xdg_view.hpp"

namespace phyllome::compositor {

class Seat;

class HostWindows : private ViewHost {
public:
    HostWindows(wlr_xdg_shell* shell, wlr_scene_tree* layer, Seat& seat,
                const std::list<std::unique_ptr<Output>>& outputs);
    ~HostWindows() override;
    HostWindows(const HostWindows&) = delete;
    HostWindows& operator=(const HostWindows&) = delete;

    // The mapped window on top, or null.
    XdgView* focused() const;
    // Outputs changed: the top window fills the first output again.
    void refit();

private:
    void view_initial_commit(XdgView& view) override;
    void view_mapped(XdgView& view) override;
    void view_unmapped(XdgView& view) override;
    void view_destroyed(XdgView& view) override;
    void focus_top();
    void add_popup(wlr_xdg_popup* popup);

    // A menu or tooltip of a window: drawn in its parent's scene tree, configured once the
    // client's first commit asks for it.
    struct Popup {
        wlr_xdg_popup* popup = nullptr;
        Listener<void> commit;
        Listener<void> destroy;
    };

    wlr_scene_tree* layer_;
    Seat& seat_;
    const std::list<std::unique_ptr<Output>>& outputs_;
    std::list<std::unique_ptr<XdgView>> views_; // front is the top of the stack
    std::list<std::unique_ptr<Popup>> popups_;
    Listener<wlr_xdg_toplevel> new_toplevel_;
    Listener<wlr_xdg_popup> new_popup_;
};

} // namespace phyllome::compositor
