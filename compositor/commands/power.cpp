#include "compositor/commands/commands.hpp"

namespace phyllome::compositor::commands {

// start, shutdown and destroy: answered when libvirt says how it went.
void power(const control::Request& r, CommandTarget& target, Reply reply) {
    using Verb = control::Request::Verb;
    const auto action = r.verb == Verb::Start      ? guestview::Action::Start
                        : r.verb == Verb::Shutdown ? guestview::Action::Shutdown
                                                   : guestview::Action::ForceOff;
    target.reply_when_done(action, r.guest, std::move(reply));
    target.inventory().request(action, r.guest);
}

} // namespace phyllome::compositor::commands
