/* Stands in for the header wayland-scanner makes from wlr-protocols'
 * wlr-output-power-management-unstable-v1.xml: wlroots' public
 * <wlr/types/wlr_output_power_management_v1.h> includes it by this name, and Debian ships the XML
 * in no package (there is no wlr-protocols package). That header uses only this enum; the
 * protocol's marshalling is compiled into libwlroots itself. The values are the protocol's. The
 * guards are the generated header's, so the real one, where installed, wins without a clash. */
#ifndef WLR_OUTPUT_POWER_MANAGEMENT_UNSTABLE_V1_SERVER_PROTOCOL_H
#define WLR_OUTPUT_POWER_MANAGEMENT_UNSTABLE_V1_SERVER_PROTOCOL_H

#ifndef ZWLR_OUTPUT_POWER_V1_MODE_ENUM
#define ZWLR_OUTPUT_POWER_V1_MODE_ENUM
enum zwlr_output_power_v1_mode {
    ZWLR_OUTPUT_POWER_V1_MODE_OFF = 0,
    ZWLR_OUTPUT_POWER_V1_MODE_ON = 1,
};
#endif

#endif
