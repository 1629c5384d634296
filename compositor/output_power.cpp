#include "compositor/output_power.hpp"

#include "compositor/output.hpp"
#include "compositor/wlr_core.hpp"
#include "config/log.hpp"

namespace phyllome::compositor {

OutputPower::OutputPower(wl_display* display, wlr_output_layout* layout) : layout_(layout) {
    wlr_output_power_manager_v1* manager =
        wlr_require(wlr_output_power_manager_v1_create(display), "wlr-output-power-management");
    // The manager is the display's and outlives the shell's parts; this listener goes first.
    set_mode_.connect(&manager->events.set_mode,
                      [this](wlr_output_power_v1_set_mode_event* event) { set_mode(*event); });
}

void OutputPower::set_mode(const wlr_output_power_v1_set_mode_event& event) {
    wlr_output* output = event.output;
    const bool on = event.mode == ZWLR_OUTPUT_POWER_V1_MODE_ON;
    if (output->enabled == on)
        return;
    if (on && !wlr_output_layout_get(layout_, output)) {
        log::info("output {}: not turned on for a power client: it is off by the config or a layout tool",
                  output->name);
        return;
    }
    OutputState state;
    wlr_output_state_set_enabled(&state.state, on);
    // The client hears the outcome from wlroots, which reports the output's state after commits.
    if (wlr_output_commit_state(output, &state.state))
        log::info("output {}: turned {} by a power client (DPMS)", output->name, on ? "on" : "off");
    else
        log::error("output {}: turning it {} for a power client was refused", output->name, on ? "on" : "off");
}

} // namespace phyllome::compositor
