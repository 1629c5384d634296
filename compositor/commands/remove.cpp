#include "compositor/commands/commands.hpp"

namespace phyllome::compositor::commands {

// A shut-off guest undefined, with the disks the shell made for it and their secrets; answered
// when libvirt says how it went (a running guest is refused there, by the agent).
void remove(const control::Request& r, CommandTarget& target, Reply reply) {
    target.reply_when_done(guestview::Action::Remove, r.guest, std::move(reply));
    target.inventory().request(guestview::Action::Remove, r.guest);
}

} // namespace phyllome::compositor::commands
