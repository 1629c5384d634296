// Host applications' windows (a terminal, virt-manager): xdg-shell toplevels, each filling the
// first output in the guests' place, below the overlay and the identity banner. At most one is
// at the front, and only when the user switched to it (GuestStage::show_window): a client can
// never put a surface above the overlay or take the keyboard by itself. Popups follow their parent.
#pragma once

#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <vector>

#include "compositor/listener.hpp"
#include "compositor/output.hpp"
#include "compositor/xdg_view.hpp"

namespace phyllome::compositor {

class Seat;

class HostWindows : private ViewHost {
public:
    // What the windows tell whoever decides what is at the front.
    struct Events {
        std::function<void(XdgView&)> opened;                 // mapped: it may be switched to
        std::function<void(XdgView&, bool was_front)> closed; // unmapped or destroyed
        std::function<void()> renamed;
    };

    HostWindows(wlr_xdg_shell* shell, wlr_scene_tree* layer, Seat& seat,
                const std::list<std::unique_ptr<Output>>& outputs);
    ~HostWindows() override;
    HostWindows(const HostWindows&) = delete;
    HostWindows& operator=(const HostWindows&) = delete;

    void set_events(Events events) { events_ = std::move(events); }

    // The window at the front, or null.
    XdgView* front() const { return front_; }
    // Mapped windows, in the order they opened.
    std::vector<XdgView*> mapped() const;
    XdgView* find(std::uint64_t id) const;
    // Brings a mapped window to the front with the keyboard; the one there before goes.
    void show(XdgView& view);
    // No window at the front: none is drawn, none has the keyboard or the pointer.
    void hide();
    // Outputs changed: every window fills the first output again.
    void refit();

private:
    void view_initial_commit(XdgView& view) override;
    void view_mapped(XdgView& view) override;
    void view_unmapped(XdgView& view) override;
    void view_renamed(XdgView&) override;
    void view_destroyed(XdgView& view) override;
    void add_popup(wlr_xdg_popup* popup);
    wlr_box first_output_box() const;
    void closed(XdgView& view, bool destroying);

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
    Events events_;
    std::list<std::unique_ptr<XdgView>> views_; // in the order they were created
    XdgView* front_ = nullptr;
    std::uint64_t next_id_ = 1;
    std::list<std::unique_ptr<Popup>> popups_;
    Listener<wlr_xdg_toplevel> new_toplevel_;
    Listener<wlr_xdg_popup> new_popup_;
};

} // namespace phyllome::compositor
