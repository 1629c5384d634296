// phyllomectl's side of the control socket: one request, one reply, per connection.
#pragma once

#include <optional>
#include <string>

namespace phyllome::compositor::ctl {

struct Answer {
    bool ok = false;
    std::string body; // after the "ok"/"error" line
};

// Connects to `socket`, sends `request` (a whole line), and reads the reply until the shell
// closes. nullopt with `error` when the shell cannot be reached or does not answer within
// `timeout_ms` of silence.
std::optional<Answer> exchange(const std::string& socket, const std::string& request, int timeout_ms,
                               std::string& error);

} // namespace phyllome::compositor::ctl
