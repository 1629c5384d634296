// phyllome-libvirt-agent: libvirt for the shell, in a process of its own. The shell starts it
// with one end of a socketpair (agent_protocol.hpp) and talks to it through AgentInventory, so
// libvirt's libraries, its memory, a hung daemon or a crash in libvirt never reach the
// compositor. It serves that one shell and exits when the shell's end closes.
#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include <sys/prctl.h>
#include <unistd.h>

#include <wayland-server-core.h>

#include "agent/agent_server.hpp"
#include "config/log.hpp"

namespace {

using namespace phyllome;

struct Arguments {
    int socket_fd = -1;
    std::string uri;
    config::LogLevel level = config::LogLevel::Info;
};

std::optional<Arguments> parse(int argc, char** argv) {
    Arguments args;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string_view key = argv[i];
        const char* value = argv[i + 1];
        if (key == "--socket-fd")
            args.socket_fd = std::atoi(value);
        else if (key == "--uri")
            args.uri = value;
        else if (key == "--log-level")
            args.level = static_cast<config::LogLevel>(
                std::clamp(std::atoi(value), 0, static_cast<int>(config::LogLevel::Debug)));
        else
            return std::nullopt;
    }
    if (args.socket_fd < 0 || args.uri.empty() || argc % 2 == 0)
        return std::nullopt;
    return args;
}

constexpr unsigned shutdown_limit_s = 10;

int on_signal(int, void* data) {
    *static_cast<bool*>(data) = true;
    return 0;
}

} // namespace

int main(int argc, char** argv) {
    const auto args = parse(argc, argv);
    if (!args) {
        std::fprintf(stderr, "usage: phyllome-libvirt-agent --socket-fd FD --uri URI [--log-level 0-3]\n"
                             "(started by phyllome-shell, not by hand)\n");
        return 2;
    }
    log::set_level(args->level);
    // The shell's hang-up ends us cleanly; this is for a shell that died while we were stuck
    // where we cannot read it (e.g. in virConnectOpen to a daemon that accepts and then hangs):
    // we end as abruptly as libvirt did inside the shell when the shell crashed.
    // (A shell gone before this call has closed its end already: the hang-up covers that.)
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    std::signal(SIGPIPE, SIG_IGN);

    wl_event_loop* loop = wl_event_loop_create();
    if (loop == nullptr) {
        log::error("libvirt agent: cannot create an event loop");
        return 1;
    }
    bool quit = false;
    wl_event_source* term = wl_event_loop_add_signal(loop, SIGTERM, &on_signal, &quit);
    wl_event_source* intr = wl_event_loop_add_signal(loop, SIGINT, &on_signal, &quit);
    int status = 0;
    try {
        agent::AgentServer server(loop, guestview::OwnedFd{args->socket_fd}, args->uri, [&quit](std::string reason) {
            log::debug("libvirt agent: the shell's connection ended: {}", reason);
            quit = true;
        });
        // Idle sources run at the start of a dispatch, before it blocks: one that ends the
        // connection (a write to a shell that has gone) must not leave us waiting in epoll.
        while (!quit) {
            wl_event_loop_dispatch_idle(loop);
            if (!quit)
                wl_event_loop_dispatch(loop, -1);
        }
        // Closing libvirt's connection waits for calls in flight; one that hangs must not keep
        // us alive without a shell: SIGALRM's default action ends the process.
        alarm(shutdown_limit_s);
    } catch (const std::exception& e) {
        log::error("libvirt agent: {}", e.what());
        status = 1;
    }
    wl_event_source_remove(term);
    wl_event_source_remove(intr);
    wl_event_loop_destroy(loop);
    return status;
}
