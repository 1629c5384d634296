#pragma once

#include <string>

namespace phyllome::compositor {

// Starts `command` with /bin/sh -c, detached from the shell (its own session, reparented to
// init), so the shell never reaps children that libvirt's embedded driver waits for itself.
// Returns false and fills `error` when the fork fails.
bool launch_detached(const std::string& command, std::string& error);

} // namespace phyllome::compositor
