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
    HostWindows(wlr_xdg_shell* shell, wlr_scene_node* layer, Seat& seat,
                const std::list<std::unique_ptr<Output>>& outputs);
    ~HostWindows() override;
    HostWindows(const HostWindows&) = delete;
    HostWindows& operator=(const HostWindows&) = delete;

    // The mapped window on top, or null.
    XdgView* focused() const;
    // Outputs changed: the top window fills the first output again.
    void refit();

private:
    void view_mapped(XdgView& view) override;
    void view_unmapped(XdgView& view) override;
    void view_destroyed(XdgView& view) override;
    void focus_top();

    wlr_scene_node* layer_;
    Seat& seat_;
    const std::list<std::unique_ptr<Output>>& outputs_;
    std::list<std::unique_ptr<XdgView>> views_; // front is the top of the stack
    Listener<wlr_xdg_surface> new_surface_;
};

} // namespace phyllome::compositor
