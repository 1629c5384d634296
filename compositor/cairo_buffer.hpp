// A wlr_buffer backed by a cairo image surface (ARGB8888), for pixels the compositor draws
// itself. wlroots owns it once handed over: it is freed when dropped and unlocked.
#pragma once

#include <cairo.h>

#include <functional>

#include "compositor/wlr.hpp"

namespace phyllome::compositor {

struct CairoBuffer {
    wlr_buffer base; // first member: wlr_buffer* <-> CairoBuffer* by cast
    cairo_surface_t* surface = nullptr;

    // Returns nullptr when cairo cannot allocate the surface.
    static CairoBuffer* create(int width, int height);
};

// A small picture the shell draws (a banner, a tag): `paint` draws `width` x `height` logical
// pixels at `scale` (it scales its own drawing) onto a buffer of that many physical pixels, shown
// as a new node under `parent` at its logical size. Null when it cannot be made or the renderer
// cannot sample it.
wlr_scene_buffer* paint_scene_buffer(wlr_scene_tree* parent, wlr_renderer* renderer, int width, int height,
                                     double scale, const std::function<void(cairo_t*)>& paint);

} // namespace phyllome::compositor
