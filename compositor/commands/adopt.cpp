#include <fmt/format.h>

#include "compositor/commands/commands.hpp"

namespace phyllome::compositor::commands {

// A SPICE/VNC guest switched to the shell's display from its next start.
void adopt(const control::Request& r, CommandTarget& target, Reply reply) {
    target.inventory().adopt(r.guest, [reply = std::move(reply), guest = r.guest](bool ok, std::string error) {
        reply(ok, ok ? fmt::format("{}: now uses the shell's display from its next start\n", guest)
                     : fmt::format("{}: cannot adopt: {}\n", guest, error));
    });
}

} // namespace phyllome::compositor::commands
