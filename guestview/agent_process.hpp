// Starting and reaping phyllome-libvirt-agent: posix_spawn (a vfork, cheap at start-up) with one
// end of a socketpair as fd 3, and a pidfd to learn of its exit on the event loop without
// SIGCHLD or waitpid(-1) (the shell reaps other children of its own with waitpid).
#pragma once

#include <optional>
#include <string>

#include <sys/types.h>

#include "config/config.hpp"
#include "guestview/owned_fd.hpp"

namespace phyllome::guestview::agent {

struct AgentProcess {
    pid_t pid = -1;
    OwnedFd pidfd;  // readable once the agent has exited
    OwnedFd socket; // our end of the socketpair
};

// Starts `path --socket-fd 3 --uri URI --log-level N`. nullopt with `error` set when it cannot.
std::optional<AgentProcess> spawn_agent(const std::string& path, const std::string& uri, config::LogLevel level,
                                        std::string& error);

// Reaps the agent once its pidfd is readable (or at once with `wait`): "exited with status 1",
// "killed by signal 9". nullopt while it still runs.
std::optional<std::string> reap_agent(const AgentProcess& process, bool wait);

// $PHYLLOME_LIBVIRT_AGENT; else the agent of the build tree when this program runs from one
// (<exe dir>/../agent/phyllome-libvirt-agent); else <libexecdir>/phyllome-libvirt-agent.
std::string libvirt_agent_path();

} // namespace phyllome::guestview::agent
