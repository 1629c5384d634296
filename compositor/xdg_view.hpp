// A host application's xdg-shell toplevel (a terminal, virt-manager), shown fullscreen on the
// output under the cursor, above the overlay.
#pragma once

#include "compositor/listener.hpp"
#include "compositor/wlr.hpp"

namespace phyllome::compositor {

class XdgView;

// What a host application's window tells the shell.
class ViewHost {
public:
    virtual ~ViewHost() = default;
    virtual void view_mapped(XdgView& view) = 0;
    virtual void view_unmapped(XdgView& view) = 0;
    // The surface is gone: the host frees the view.
    virtual void view_destroyed(XdgView& view) = 0;
};

class XdgView {
public:
    XdgView(wlr_scene_node* layer, wlr_seat* seat, ViewHost& host, wlr_xdg_surface* surface);
    ~XdgView();
    XdgView(const XdgView&) = delete;
    XdgView& operator=(const XdgView&) = delete;

    wlr_xdg_surface* surface() const { return surface_; }
    wlr_scene_node* node() const { return node_; }
    bool mapped() const { return mapped_; }
    void focus();
    // Makes the view fill `box` (layout coordinates).
    void fill(const wlr_box& box);

private:
    wlr_seat* seat_;
    ViewHost& host_;
    wlr_xdg_surface* surface_;
    wlr_scene_node* node_ = nullptr;
    bool mapped_ = false;
    Listener<void> map_;
    Listener<void> unmap_;
    Listener<void> destroy_;
    Listener<void> request_fullscreen_;
    Listener<void> request_maximize_;
};

} // namespace phyllome::compositor
