#include "compositor/commands/commands.hpp"

namespace phyllome::compositor::commands {

void status(const control::Request&, CommandTarget& target, Reply reply) {
    reply(true, format_status_text(target.status()));
}

void status_json(const control::Request&, CommandTarget& target, Reply reply) {
    reply(true, format_status_json(target.status()));
}

} // namespace phyllome::compositor::commands
