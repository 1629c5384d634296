// The overlay's USB devices: one row each with its name, what it is and who has it. A row is a
// button: it gives the device to the selected guest, or takes it back from it.
#pragma once

#include <vector>

#include "compositor/overlay_model.hpp"
#include "compositor/paint_kit.hpp"
#include "config/config.hpp"

namespace phyllome::compositor {

// Paints from `y` down, `width` wide; adds the rows to `hits` (usb_rows and buttons). Returns
// the y below them (`y` when no device is plugged in).
double paint_usb(cairo_t* cr, paint::Text& text, double left, double y, int width, const std::vector<UsbEntry>& usb,
                 const std::string& selected_guest, const config::OverlayConfig& style, OverlayHitMap& hits);

} // namespace phyllome::compositor
