#include "compositor/guest_placement.hpp"

#include <algorithm>
#include <cmath>

namespace phyllome::compositor {

Placement place_frame(double box_x, double box_y, double box_w, double box_h, double output_scale, int frame_w,
                      int frame_h) {
    Placement p;
    if (frame_w <= 0 || frame_h <= 0 || box_w <= 0 || box_h <= 0)
        return p;
    // Guest pixels map to physical pixels: 1:1 when they match, else fit inside.
    const double phys_w = box_w * output_scale, phys_h = box_h * output_scale;
    double phys_per_guest = std::min(phys_w / frame_w, phys_h / frame_h);
    if (frame_w == static_cast<int>(std::lround(phys_w)) && frame_h == static_cast<int>(std::lround(phys_h)))
        phys_per_guest = 1.0;
    p.scale = phys_per_guest / output_scale;
    p.width = frame_w * p.scale;
    p.height = frame_h * p.scale;
    // Whole physical pixels for the offset, so a 1:1 frame is never resampled.
    p.x = box_x + std::floor((phys_w - frame_w * phys_per_guest) / 2) / output_scale;
    p.y = box_y + std::floor((phys_h - frame_h * phys_per_guest) / 2) / output_scale;
    return p;
}

Placement::Box Placement::to_output_pixels(double gx, double gy, double gw, double gh, double output_x,
                                           double output_y, double output_scale) const {
    const double x0 = (x - output_x + gx * scale) * output_scale;
    const double y0 = (y - output_y + gy * scale) * output_scale;
    const double x1 = (x - output_x + (gx + gw) * scale) * output_scale;
    const double y1 = (y - output_y + (gy + gh) * scale) * output_scale;
    // One pixel more on each side when scaled: filtering reaches into neighbours.
    const int pad = scale * output_scale == 1.0 ? 0 : 1;
    const int ix = static_cast<int>(std::floor(x0)) - pad, iy = static_cast<int>(std::floor(y0)) - pad;
    return {ix, iy, static_cast<int>(std::ceil(x1)) + pad - ix, static_cast<int>(std::ceil(y1)) + pad - iy};
}

std::optional<std::pair<double, double>> Placement::to_guest(double lx, double ly) const {
    if (scale <= 0 || lx < x || ly < y || lx >= x + width || ly >= y + height)
        return std::nullopt;
    return std::pair{(lx - x) / scale, (ly - y) / scale};
}

} // namespace phyllome::compositor
