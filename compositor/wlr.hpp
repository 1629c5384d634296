// The only header that includes wlroots, and the one place that knows its versions: 0.18
// (Debian 13) and 0.19 (Fedora 42/43). It wraps the C headers for C++ (`[static N]` array
// parameters) and, at its end, holds every difference between the two series.
#pragma once

// Everything the wlroots headers include from elsewhere comes first, so the `static` rename
// below never reaches libc, libstdc++ or pixman headers.
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <linux/input-event-codes.h>
#include <pixman.h>
#include <wayland-server-core.h>
#include <wayland-server-protocol.h>
#include <wayland-util.h>
#include <xkbcommon/xkbcommon.h>

#include "xdg-shell-protocol.h"

extern "C" {
#define static
#include <wlr/version.h>
#include <wlr/backend.h>
#include <wlr/backend/headless.h>
#include <wlr/backend/libinput.h>
#include <wlr/backend/session.h>
#include <wlr/backend/multi.h>
#include <wlr/render/allocator.h>
#include <wlr/render/wlr_renderer.h>
#include <wlr/render/pixman.h>
#include <wlr/render/swapchain.h>
#include <wlr/types/wlr_buffer.h>
#include <wlr/interfaces/wlr_buffer.h>
#include <wlr/interfaces/wlr_keyboard.h>
#include <wlr/types/wlr_compositor.h>
#include <wlr/types/wlr_subcompositor.h>
#include <wlr/types/wlr_cursor.h>
#include <wlr/types/wlr_data_device.h>
#include <wlr/types/wlr_data_control_v1.h>
#include <wlr/types/wlr_idle_notify_v1.h>
#include <wlr/types/wlr_input_device.h>
#include <wlr/types/wlr_keyboard.h>
#include <wlr/types/wlr_output.h>
#include <wlr/util/region.h>
#include <wlr/types/wlr_output_layout.h>
#include <wlr/types/wlr_output_management_v1.h>
// Includes "wlr-output-power-management-unstable-v1-protocol.h": protocols/ has a stand-in.
#include <wlr/types/wlr_output_power_management_v1.h>
#include <wlr/types/wlr_pointer.h>
#include <wlr/types/wlr_scene.h>
#include <wlr/types/wlr_screencopy_v1.h>
#include <wlr/types/wlr_seat.h>
#include <wlr/types/wlr_session_lock_v1.h>
#include <wlr/types/wlr_touch.h>
#include <wlr/types/wlr_virtual_keyboard_v1.h>
#include <wlr/types/wlr_virtual_pointer_v1.h>
#include <wlr/types/wlr_xcursor_manager.h>
#include <wlr/types/wlr_xdg_output_v1.h>
#include <wlr/types/wlr_xdg_shell.h>
#include <wlr/util/log.h>
#undef static
}

static_assert(WLR_VERSION_MAJOR == 0 && (WLR_VERSION_MINOR == 18 || WLR_VERSION_MINOR == 19),
              "phyllome-shell builds on wlroots 0.18 and 0.19; port compositor/ before building on another");

namespace phyllome::compositor::wlr_compat {

// A wlr_buffer implementation's destroy() ends the base first from 0.19 on (it used to be done
// by wlroots before calling destroy()).
inline void buffer_finish([[maybe_unused]] wlr_buffer* buffer) {
#if WLR_VERSION_MINOR >= 19
    wlr_buffer_finish(buffer);
#endif
}

} // namespace phyllome::compositor::wlr_compat
