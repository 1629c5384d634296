#include "compositor/commands/commands.hpp"

namespace phyllome::compositor::commands {

// The answer waits for the locker: a script may go on only once nothing of the session shows.
void lock(const control::Request&, CommandTarget& target, Reply reply) { target.lock_session(std::move(reply)); }

} // namespace phyllome::compositor::commands
