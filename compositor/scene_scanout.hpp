// Finds the one buffer an output could show directly (direct scan-out): the only visible node
// on the output, covering it pixel for pixel.
#pragma once

#include "compositor/wlr.hpp"

namespace phyllome::compositor {

// The buffer node that alone covers `output` (its whole layout box, one buffer pixel per output
// pixel, same transform, nothing cropped or scaled), or nullptr when anything else is visible
// on the output (a cursor, a banner, a message, the overlay, a letterbox's black) or the node
// does not fit exactly.
wlr_scene_buffer* sole_covering_buffer(wlr_scene* scene, wlr_output* output, const wlr_box& output_box);

} // namespace phyllome::compositor
