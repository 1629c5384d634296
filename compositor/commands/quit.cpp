#include "compositor/commands/commands.hpp"

namespace phyllome::compositor::commands {

void quit(const control::Request&, CommandTarget& target, Reply reply) {
    reply(true, "phyllome-shell is quitting\n");
    target.quit();
}

} // namespace phyllome::compositor::commands
