#include <cstdio>

#include <fmt/format.h>

#include "compositor/commands/commands.hpp"

namespace phyllome::compositor::commands {

// slot=N|none colour=#rrggbb|none, kept in the guest's own libvirt metadata.
void identity(const control::Request& r, CommandTarget& target, Reply reply) {
    const auto* g = target.inventory().find(r.guest);
    if (!g) {
        reply(false, fmt::format("there is no guest named '{}'\n", r.guest));
        return;
    }
    std::optional<int> slot = g->slot;
    std::optional<std::uint32_t> colour = g->colour;
    if (r.slot) {
        int n = 0;
        if (*r.slot == "none")
            slot.reset();
        else if (std::sscanf(r.slot->c_str(), "%d", &n) == 1 && n >= 1 && n <= 99)
            slot = n;
        else {
            reply(false, fmt::format("slot must be a number from 1 to 99 or none, got '{}'\n", *r.slot));
            return;
        }
    }
    if (r.colour) {
        unsigned c = 0;
        if (*r.colour == "none")
            colour.reset();
        else if (r.colour->size() == 7 && std::sscanf(r.colour->c_str(), "#%6x", &c) == 1)
            colour = c;
        else {
            reply(false, fmt::format("colour must look like #4f9dde or be none, got '{}'\n", *r.colour));
            return;
        }
    }
    target.inventory().set_identity(r.guest, slot, colour,
                                    [reply = std::move(reply), guest = r.guest](bool ok, std::string error) {
                                        reply(ok, ok ? fmt::format("{}: identity saved\n", guest)
                                                     : fmt::format("{}: {}\n", guest, error));
                                    });
}

} // namespace phyllome::compositor::commands
