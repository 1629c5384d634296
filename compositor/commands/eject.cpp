#include "compositor/commands/commands.hpp"

namespace phyllome::compositor::commands {

// The guest's installer ISO taken out of its CD-ROM (running guest and config), so a reboot
// does not land in setup again; answered with what was ejected, or why nothing was.
void eject(const control::Request& r, CommandTarget& target, Reply reply) {
    target.reply_when_done(guestview::Action::Eject, r.guest, std::move(reply));
    target.inventory().request(guestview::Action::Eject, r.guest);
}

} // namespace phyllome::compositor::commands
