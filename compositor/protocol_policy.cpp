#include "compositor/protocol_policy.hpp"

#include <string_view>

namespace phyllome::compositor {

bool ProtocolPolicy::allows(const config::SecurityConfig& security, const char* interface_name) {
    const std::string_view name = interface_name ? interface_name : "";
    if (name == "zwlr_screencopy_manager_v1" || name == "zwlr_export_dmabuf_manager_v1" ||
        name == "ext_image_copy_capture_manager_v1")
        return security.allow_screencopy;
    if (name == "zwp_virtual_keyboard_manager_v1" || name == "zwlr_virtual_pointer_manager_v1")
        return security.allow_virtual_input;
    // Any client could read every copy in the background (the threat model forbids that).
    if (name == "zwlr_data_control_manager_v1" || name == "ext_data_control_manager_v1")
        return security.allow_data_control;
    return true;
}

ProtocolPolicy::ProtocolPolicy(wl_display* display, const config::Config& config) : display_(display), config_(config) {
    wl_display_set_global_filter(
        display_,
        [](const wl_client*, const wl_global* global, void* data) {
            const auto* self = static_cast<const ProtocolPolicy*>(data);
            return allows(self->config_.security, wl_global_get_interface(global)->name);
        },
        this);
}

ProtocolPolicy::~ProtocolPolicy() { wl_display_set_global_filter(display_, nullptr, nullptr); }

} // namespace phyllome::compositor
