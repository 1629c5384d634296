// A host application's xdg-shell toplevel (a terminal, virt-manager), shown fullscreen on the
// output under the cursor, above the overlay.
#pragma once

#include "compositor/listener.hpp"
#include "compositor/wlr.hpp"

namespace phyllome::compositor {

class Server;

class XdgView {
public:
    XdgView(Server& server, wlr_xdg_surface* surface);
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
    Server& server_;
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
