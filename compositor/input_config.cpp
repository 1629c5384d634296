#include "compositor/input_config.hpp"

#include <libinput.h>

namespace phyllome::compositor {

void apply_pointer_config(wlr_input_device* device, const config::PointerConfig& cfg) {
    if (!wlr_input_device_is_libinput(device))
        return;
    libinput_device* li = wlr_libinput_get_device_handle(device);
    if (libinput_device_config_tap_get_finger_count(li) > 0)
        libinput_device_config_tap_set_enabled(li, cfg.tap_to_click ? LIBINPUT_CONFIG_TAP_ENABLED
                                                                    : LIBINPUT_CONFIG_TAP_DISABLED);
    if (libinput_device_config_scroll_has_natural_scroll(li))
        libinput_device_config_scroll_set_natural_scroll_enabled(li, cfg.natural_scroll);
    if (libinput_device_config_left_handed_is_available(li))
        libinput_device_config_left_handed_set(li, cfg.left_handed);
    if (libinput_device_config_accel_is_available(li)) {
        libinput_device_config_accel_set_speed(li, cfg.acceleration);
        libinput_device_config_accel_set_profile(li, cfg.accel_profile == "flat"
                                                         ? LIBINPUT_CONFIG_ACCEL_PROFILE_FLAT
                                                         : LIBINPUT_CONFIG_ACCEL_PROFILE_ADAPTIVE);
    }
}

} // namespace phyllome::compositor
