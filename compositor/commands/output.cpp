#include <fmt/format.h>

#include "compositor/commands/commands.hpp"

namespace phyllome::compositor::commands {

// Headless outputs only: tests of hotplug and screenless hosts (as sway's create_output).
void output_add(const control::Request& r, CommandTarget& target, Reply reply) {
    std::string error;
    if (const std::string name = target.add_output(r.width, r.height, error); !name.empty())
        reply(true, fmt::format("added output {} ({}x{})\n", name, r.width, r.height));
    else
        reply(false, error + "\n");
}

void output_remove(const control::Request& r, CommandTarget& target, Reply reply) {
    std::string error;
    if (target.remove_output(r.output, error))
        reply(true, fmt::format("removed output {}\n", r.output));
    else
        reply(false, error + "\n");
}

} // namespace phyllome::compositor::commands
