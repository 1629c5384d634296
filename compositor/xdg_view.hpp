// A host application's xdg-shell toplevel (a terminal, virt-manager): fullscreen on the first
// output, in the same place as the guests, below the overlay. It is drawn and gets input only
// while the user has switched to it (see HostWindows and GuestStage), like a guest.
#pragma once

#include <cstdint>
#include <string>

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
    // Its title or app id changed.
    virtual void view_renamed(XdgView& view) = 0;
    // The surface is gone: the host frees the view.
    virtual void view_destroyed(XdgView& view) = 0;
};

class XdgView {
public:
    XdgView(wlr_scene_tree* layer, wlr_seat* seat, ViewHost& host, wlr_xdg_toplevel* toplevel, std::uint64_t id);
    ~XdgView();
    XdgView(const XdgView&) = delete;
    XdgView& operator=(const XdgView&) = delete;

    // Unique for the session: how the overlay and the status name the window.
    std::uint64_t id() const { return id_; }
    // Its title, else its app id, else "Window".
    std::string label() const;
    std::string app_id() const;
    bool mapped() const { return mapped_; }
    wlr_surface* surface() const { return toplevel_->base->surface; }
    bool shown() const { return shown_; }
    // Drawn, activated and with the keyboard (true), or not drawn at all and without input.
    void set_shown(bool shown);
    // Makes the view fill `box` (layout coordinates); before the client's first commit, the
    // size goes out with the initial configure.
    void fill(const wlr_box& box);

private:
    // Asks the client for a new configure when it may get one (after its first commit).
    void configure();

    wlr_seat* seat_;
    ViewHost& host_;
    wlr_xdg_toplevel* toplevel_;
    std::uint64_t id_;
    wlr_scene_tree* tree_ = nullptr;
    bool mapped_ = false;
    bool shown_ = false;
    Listener<void> commit_;
    Listener<void> map_;
    Listener<void> unmap_;
    Listener<void> destroy_;
    Listener<void> request_fullscreen_;
    Listener<void> request_maximize_;
    Listener<void> set_title_;
    Listener<void> set_app_id_;
};

} // namespace phyllome::compositor
