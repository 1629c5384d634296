// wlr-output-power-management-unstable-v1 (DPMS): a client such as wlopm or an idle daemon
// turns an output off and on again. Off keeps the output's place in the layout, so nothing is
// laid out again and the guest on it is not told a new size; on shows what is there now.
#pragma once

#include "compositor/listener.hpp"
#include "compositor/wlr.hpp"

namespace phyllome::compositor {

class OutputPower {
public:
    // Only outputs placed in `layout` are turned on: one the config or a layout tool turned off
    // stays off.
    OutputPower(wl_display* display, wlr_output_layout* layout);
    OutputPower(const OutputPower&) = delete;
    OutputPower& operator=(const OutputPower&) = delete;

private:
    void set_mode(const wlr_output_power_v1_set_mode_event& event);

    wlr_output_layout* layout_;
    Listener<wlr_output_power_v1_set_mode_event> set_mode_;
};

} // namespace phyllome::compositor
