#include "guestview/agent_process.hpp"
#include "guestview/child_spawn.hpp"

#include <array>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include <fcntl.h>
#include <sched.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include "build_config.h"

extern char** environ;

namespace phyllome::guestview::agent {
namespace {

constexpr int agent_socket_fd = 3;

} // namespace

std::optional<AgentProcess> spawn_agent(const std::string& path, const std::string& uri, config::LogLevel level,
                                        std::string& error) {
    int pair[2] = {-1, -1};
    // CLOEXEC on both: no other child (app launcher, host probes) may keep the agent's end open,
    // or the agent would not see us go. dup2 in the child clears it on fd 3 only.
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0) {
        error = fmt::format("socketpair: {}", std::strerror(errno));
        return std::nullopt;
    }
    OwnedFd ours{pair[0]};
    OwnedFd theirs{pair[1]};
    if (theirs.get() == agent_socket_fd) // dup2 onto itself would leave close-on-exec set
        theirs.reset(fcntl(agent_socket_fd, F_DUPFD_CLOEXEC, agent_socket_fd + 1));

    SpawnSetup setup;
    posix_spawn_file_actions_adddup2(&setup.actions, theirs.get(), agent_socket_fd);
    // Nothing else of ours: files other threads opened without close-on-exec (cursor themes,
    // fontconfig caches) would otherwise stay open in the agent for its whole life.
    posix_spawn_file_actions_addclosefrom_np(&setup.actions, agent_socket_fd + 1);

    const std::string fd_text = std::to_string(agent_socket_fd);
    const std::string level_text = std::to_string(static_cast<int>(level));
    std::array<char*, 8> argv{const_cast<char*>(path.c_str()), const_cast<char*>("--socket-fd"),
                              const_cast<char*>(fd_text.c_str()), const_cast<char*>("--uri"),
                              const_cast<char*>(uri.c_str()), const_cast<char*>("--log-level"),
                              const_cast<char*>(level_text.c_str()), nullptr};
    pid_t pid = -1;
    if (const int err = posix_spawn(&pid, path.c_str(), &setup.actions, &setup.attr, argv.data(), environ)) {
        error = fmt::format("cannot start {}: {}", path, std::strerror(err));
        return std::nullopt;
    }
    AgentProcess process{pid, OwnedFd{open_pidfd(pid)}, std::move(ours)};
    if (process.pidfd.get() < 0) {
        error = fmt::format("pidfd_open: {}", std::strerror(errno));
        kill(pid, SIGKILL);
        waitpid(pid, nullptr, 0);
        return std::nullopt;
    }
    return process;
}

std::optional<std::string> reap_agent(const AgentProcess& process, bool wait) {
    siginfo_t info{};
    const int options = WEXITED | (wait ? 0 : WNOHANG);
    int r = -1;
    do {
        r = waitid(p_pidfd, static_cast<id_t>(process.pidfd.get()), &info, options);
    } while (r < 0 && errno == EINTR);
    if (r < 0)
        return fmt::format("cannot tell how it ended: {}", std::strerror(errno));
    if (info.si_pid == 0)
        return std::nullopt; // WNOHANG and still running
    if (info.si_code == CLD_EXITED)
        return fmt::format("exited with status {}", info.si_status);
    return fmt::format("killed by signal {}", info.si_status);
}

std::string libvirt_agent_path() {
    if (const char* path = std::getenv("PHYLLOME_LIBVIRT_AGENT"); path != nullptr && *path != '\0')
        return path;
    std::error_code ec;
    const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (!ec) {
        const auto in_build_tree = exe.parent_path().parent_path() / "agent" / "phyllome-libvirt-agent";
        if (std::filesystem::exists(in_build_tree, ec))
            return in_build_tree.string();
    }
    return std::string{PHYLLOME_LIBEXECDIR} + "/phyllome-libvirt-agent";
}

} // namespace phyllome::guestview::agent
