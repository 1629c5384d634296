// Draws the management overlay with cairo and pango. No wlroots: the result is a cairo image
// the compositor wraps into a wlr_buffer, and the painter is testable on its own.
#pragma once

#include <cairo.h>

#include "compositor/overlay_model.hpp"
#include "config/config.hpp"

namespace phyllome::compositor {

struct OverlayPaintInput {
    int width = 0;  // logical pixels
    int height = 0;
    double scale = 1.0; // the surface has width*scale x height*scale pixels
    const OverlayModel* model = nullptr;
    const config::OverlayConfig* style = nullptr;
    std::string status_line; // bottom-left: URI, outputs
    std::string hotkey_help;
    std::string message; // when set (kiosk), a full-screen message instead of the guest list
};

// Paints onto `cr` (already sized width*scale x height*scale) and returns the clickable areas
// in logical pixels.
OverlayHitMap paint_overlay(cairo_t* cr, const OverlayPaintInput& in);

} // namespace phyllome::compositor

namespace phyllome::compositor {

// A full-screen message (e.g. "Waiting for win11's screen…") on the overlay background.
void paint_message(cairo_t* cr, int width, int height, double scale, const std::string& title,
                   const std::string& detail, const config::OverlayConfig& style);

} // namespace phyllome::compositor

namespace phyllome::compositor {

// The identity banner shown on a switch: the guest's colour, number and name.
// `width`/`height` in logical pixels; `alpha` fades the whole banner. A negative `number` makes
// `name` a message (a clipboard confirmation), drawn at the overlay's text size.
void paint_banner(cairo_t* cr, int width, int height, double scale, const std::string& name, int number,
                  std::uint32_t colour, double alpha, const config::OverlayConfig& style);

} // namespace phyllome::compositor
