// Who may watch and type: the Wayland globals that let a client capture the guests' screens
// (wlr-screencopy) or inject input into them (virtual keyboard and pointer) are hidden from
// every client unless [security] allows them. A filter rather than not creating the globals, so
// a config reload takes effect for the next client that binds.
#pragma once

#include "compositor/wlr.hpp"
#include "config/config.hpp"

namespace phyllome::compositor {

class ProtocolPolicy {
public:
    // `config` is the server's, read at every bind (a reload changes it).
    ProtocolPolicy(wl_display* display, const config::Config& config);
    ~ProtocolPolicy();
    ProtocolPolicy(const ProtocolPolicy&) = delete;
    ProtocolPolicy& operator=(const ProtocolPolicy&) = delete;

    // Whether a client may see the global of `interface_name` (e.g. "zwlr_screencopy_manager_v1").
    static bool allows(const config::SecurityConfig& security, const char* interface_name);

private:
    wl_display* display_;
    const config::Config& config_;
};

} // namespace phyllome::compositor
