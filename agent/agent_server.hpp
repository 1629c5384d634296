// The libvirt agent's side of the socket: one shell, served from an in-process Inventory on the
// agent's own wl_event_loop. Every inventory change is pushed as a whole StateUpdate; each
// request is answered with a reply naming its id.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "guestview/agent_channel.hpp"
#include "guestview/inventory.hpp"

struct wl_event_loop;

namespace phyllome::agent {

class AgentServer {
public:
    // `ended` runs on the loop once the shell has gone (hang-up, malformed request, or it stopped
    // reading); the owner then destroys the server and exits.
    AgentServer(wl_event_loop* loop, guestview::OwnedFd socket, std::string uri, std::function<void(std::string)> ended);
    ~AgentServer();
    AgentServer(const AgentServer&) = delete;
    AgentServer& operator=(const AgentServer&) = delete;

private:
    bool on_frame(std::string_view body);
    void push_state();
    void push_jobs();
    void on_action_done(const guestview::ActionResult& result);

    std::function<void(std::string)> ended_;
    std::unique_ptr<guestview::agent::Channel> channel_;
    // Action requests waiting for their result, oldest first: results name the guest and the
    // action, not the request, so the oldest match is the one answered.
    struct PendingAction {
        std::uint32_t id;
        guestview::Action action;
        std::string guest;
    };
    std::deque<PendingAction> actions_;
    std::unique_ptr<guestview::Inventory> inventory_; // last: its callbacks use the above
};

} // namespace phyllome::agent
