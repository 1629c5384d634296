// Outputs added and removed while the shell runs, on the headless backend only (phyllomectl
// output add/remove, as sway's create_output): for tests of hotplug and for screenless hosts.
// Real monitors come and go by themselves; a DRM or nested backend refuses these requests.
#pragma once

#include <optional>
#include <string>

#include "compositor/wlr.hpp"

namespace phyllome::compositor {

class HeadlessOutputs {
public:
    // `backend` as wlr_backend_autocreate made it (a multi-backend, or headless itself).
    explicit HeadlessOutputs(wlr_backend* backend);

    bool available() const { return headless_ != nullptr; }
    wlr_backend* backend() const { return headless_; }
    // The new output's name (the shell has taken it in by the time this returns), or nullopt
    // with `error` set.
    std::optional<std::string> add(int width, int height, std::string& error);
    // Destroys the output; the shell's destroy listeners move what it showed elsewhere.
    bool remove(wlr_output* output, std::string& error);

    static constexpr int max_size = 8192; // a side, in pixels: bounds the pixman buffers

private:
    wlr_backend* headless_ = nullptr;
};

} // namespace phyllome::compositor
