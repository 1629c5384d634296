// A wlr_buffer backed by a cairo image surface (ARGB8888), for pixels the compositor draws
// itself. wlroots owns it once handed over: it is freed when dropped and unlocked.
#pragma once

#include <cairo.h>

#include "compositor/wlr.hpp"

namespace phyllome::compositor {

struct CairoBuffer {
    wlr_buffer base; // first member: wlr_buffer* <-> CairoBuffer* by cast
    cairo_surface_t* surface = nullptr;

    // Returns nullptr when cairo cannot allocate the surface.
    static CairoBuffer* create(int width, int height);
};

} // namespace phyllome::compositor
