// Where a guest frame goes on an output: scaled with its aspect ratio kept and centred
// (letterboxed on black), or 1:1 when the sizes match. Pure arithmetic, unit-tested.
#pragma once

#include <optional>
#include <utility>

namespace phyllome::compositor {

struct Placement {
    // In layout (logical) coordinates.
    double x = 0, y = 0, width = 0, height = 0;
    double scale = 1; // logical units per guest pixel

    // A guest pixel rectangle in output-local physical pixels, grown to whole pixels.
    struct Box {
        int x, y, width, height;
    };
    Box to_output_pixels(double gx, double gy, double gw, double gh, double output_x, double output_y,
                         double output_scale) const;
    // A layout point in guest pixels; nullopt outside the frame (in the black bars).
    std::optional<std::pair<double, double>> to_guest(double lx, double ly) const;
};

// `box_*` is the output in layout coordinates, `output_scale` its scale, `frame_*` guest pixels.
Placement place_frame(double box_x, double box_y, double box_w, double box_h, double output_scale,
                      int frame_w, int frame_h);

} // namespace phyllome::compositor
