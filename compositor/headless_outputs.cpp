#include "compositor/headless_outputs.hpp"

#include <fmt/format.h>

namespace phyllome::compositor {

HeadlessOutputs::HeadlessOutputs(wlr_backend* backend) {
    if (!backend)
        return;
    if (wlr_backend_is_headless(backend)) {
        headless_ = backend;
    } else if (wlr_backend_is_multi(backend)) {
        wlr_multi_for_each_backend(
            backend,
            [](wlr_backend* child, void* data) {
                auto** found = static_cast<wlr_backend**>(data);
                if (!*found && wlr_backend_is_headless(child))
                    *found = child;
            },
            &headless_);
    }
}

std::optional<std::string> HeadlessOutputs::add(int width, int height, std::string& error) {
    if (!headless_) {
        error = "outputs can be added only on the headless backend (WLR_BACKENDS=headless)";
        return std::nullopt;
    }
    if (width <= 0 || height <= 0 || width > max_size || height > max_size) {
        error = fmt::format("an output size is 1 to {} pixels a side, not {}x{}", max_size, width, height);
        return std::nullopt;
    }
    wlr_output* output = wlr_headless_add_output(headless_, static_cast<unsigned>(width), static_cast<unsigned>(height));
    if (!output) {
        error = fmt::format("the headless backend could not add a {}x{} output", width, height);
        return std::nullopt;
    }
    return std::string(output->name);
}

bool HeadlessOutputs::remove(wlr_output* output, std::string& error) {
    if (!headless_) {
        error = "outputs can be removed only on the headless backend (WLR_BACKENDS=headless)";
        return false;
    }
    if (!wlr_output_is_headless(output)) {
        error = fmt::format("{} is not a headless output", output->name);
        return false;
    }
    wlr_output_destroy(output);
    return true;
}

} // namespace phyllome::compositor
