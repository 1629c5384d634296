// A host application's xdg-shell toplevel (a terminal, virt-manager), shown fullscreen on the
// output under the cursor, above the overlay.
#pragma once

#include <optional>

#include "compositor/listener.hpp"
#include "compositor/wlr.hpp"

namespace phyllome::compositor {

class XdgView;

// What a host application's window tells the shell.
class ViewHost {
public:
    virtual ~ViewHost() = default;
    // The client's first commit: the view must be told its size now (xdg-shell's initial configure).
    virtual void view_initial_commit(XdgView& view) = 0;
    virtual void view_mapped(XdgView& view) = 0;
    virtual void view_unmapped(XdgView& view) = 0;
    // The surface is gone: the host frees the view.
    virtual void view_destroyed(XdgView& view) = 0;
};

class XdgView {
public:
    XdgView(wlr_scene_tree* layer, wlr_seat* seat, ViewHost& host, wlr_xdg_toplevel* toplevel);
    ~XdgView();
    XdgView(const XdgView&) = delete;
    XdgView& operator=(const XdgView&) = delete;

    bool mapped() const { return mapped_; }
    void focus();
    // Makes the view fill `box` (layout coordinates); before the client's first commit, the
    // size goes out with the initial configure.
    void fill(const wlr_box& box);

private:
    // Asks the client for a new configure when it may get one (after its first commit).
    void configure();

    wlr_seat* seat_;
    ViewHost& host_;
    wlr_xdg_toplevel* toplevel_;
    wlr_scene_tree* tree_ = nullptr;
    bool mapped_ = false;
    Listener<void> commit_;
    Listener<void> map_;
    Listener<void> unmap_;
    Listener<void> destroy_;
    Listener<void> request_fullscreen_;
    Listener<void> request_maximize_;
};

} // namespace phyllome::compositor
