#include <fmt/format.h>

#include "compositor/commands/commands.hpp"

namespace phyllome::compositor::commands {

void show(const control::Request& r, CommandTarget& target, Reply reply) {
    std::string error;
    if (target.show_guest(r.guest, error))
        reply(true, fmt::format("showing {}\n", r.guest));
    else
        reply(false, fmt::format("cannot show {}: {}\n", r.guest, error));
}

void overlay(const control::Request&, CommandTarget& target, Reply reply) {
    target.show_overlay();
    reply(true, "showing the overlay\n");
}

namespace {
void adjacent(CommandTarget& target, int direction, Reply& reply) {
    const std::string shown = target.show_adjacent_guest(direction);
    reply(true, shown.empty() ? "no guest to show\n" : fmt::format("showing {}\n", shown));
}
} // namespace

void next(const control::Request&, CommandTarget& target, Reply reply) { adjacent(target, 1, reply); }
void prev(const control::Request&, CommandTarget& target, Reply reply) { adjacent(target, -1, reply); }

} // namespace phyllome::compositor::commands
