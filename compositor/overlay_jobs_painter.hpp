// The overlay's long jobs: for each, its title, a progress bar (bytes done of the total, or how
// it ended), the bytes and time left, and a Cancel button while it runs.
#pragma once

#include <vector>

#include "compositor/overlay_model.hpp"
#include "compositor/paint_kit.hpp"
#include "config/config.hpp"

namespace phyllome::compositor {

// Paints the running jobs and the two last finished ones from `y` down, `width` wide; adds the
// Cancel buttons and the bars to `hits`. Returns the y below them (`y` when there are none).
double paint_jobs(cairo_t* cr, paint::Text& text, double left, double y, int width,
                  const std::vector<guestview::JobInfo>& jobs, const config::OverlayConfig& style,
                  OverlayHitMap& hits);

} // namespace phyllome::compositor
