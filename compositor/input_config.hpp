#pragma once

#include "compositor/wlr.hpp"
#include "config/config.hpp"

namespace phyllome::compositor {

// Applies tap-to-click, natural scrolling, handedness and acceleration to a libinput device;
// other devices (virtual, nested, headless) have no such settings and are left alone.
void apply_pointer_config(wlr_input_device* device, const config::PointerConfig& cfg);

} // namespace phyllome::compositor
