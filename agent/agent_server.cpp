#include "agent/agent_server.hpp"

#include <algorithm>
#include <variant>

#include "config/log.hpp"
#include "guestview/agent_protocol.hpp"

namespace phyllome::agent {
namespace {

namespace proto = guestview::agent;

// Replies are mostly small; a few screenshots may wait while the shell is busy. A shell that
// stops reading altogether is gone as far as we are concerned.
constexpr std::size_t max_queued_bytes = 256u << 20;

} // namespace

AgentServer::AgentServer(wl_event_loop* loop, guestview::OwnedFd socket, std::string uri,
                         std::function<void(std::string)> ended)
    : ended_(std::move(ended)) {
    channel_ = std::make_unique<proto::Channel>(
        loop, std::move(socket),
        proto::Channel::Handlers{[this](std::string_view body) { return on_frame(body); },
                                 [this](std::string reason) { ended_(std::move(reason)); }},
        max_queued_bytes);
    inventory_ = std::make_unique<guestview::Inventory>(
        loop, std::move(uri),
        guestview::Inventory::Callbacks{[this] { push_state(); },
                                        [this](const guestview::ActionResult& r) { on_action_done(r); },
                                        [this] { push_jobs(); }});
    // The first state goes out at once: the constructor has made the first attempt already.
    push_state();
}

AgentServer::~AgentServer() {
    inventory_.reset(); // first: it may still call back into the members below
}

void AgentServer::push_state() {
    if (!inventory_)
        return;
    std::string frame;
    proto::encode(proto::Reply{proto::StateUpdate{inventory_->status(), inventory_->guests()}}, frame);
    channel_->send(std::move(frame));
}

void AgentServer::push_jobs() {
    if (!inventory_)
        return;
    std::string frame;
    proto::encode(proto::Reply{proto::JobsUpdate{inventory_->jobs()}}, frame);
    channel_->send(std::move(frame));
}

void AgentServer::on_action_done(const guestview::ActionResult& result) {
    auto it = std::ranges::find_if(actions_, [&](const PendingAction& p) {
        return p.action == result.action && p.guest == result.guest;
    });
    std::uint32_t id = 0; // 0: no request of the shell's (none is numbered 0)
    if (it != actions_.end()) {
        id = it->id;
        actions_.erase(it);
    }
    std::string frame;
    proto::encode(proto::Reply{proto::ActionReply{id, result}}, frame);
    channel_->send(std::move(frame));
}

bool AgentServer::on_frame(std::string_view body) {
    auto request = proto::decode_request(body);
    if (!request) {
        log::error("libvirt agent: a malformed request from the shell ({} bytes)", body.size());
        return false;
    }
    // Replies go through `send`, which checks the channel is still there: an answer may come
    // after the shell has gone and the server is being torn down.
    auto send = [this](proto::Reply reply, guestview::OwnedFd fd = {}) {
        std::string frame;
        proto::encode(reply, frame);
        channel_->send(std::move(frame), std::move(fd));
    };
    std::visit(
        [&](auto& m) {
            using M = std::decay_t<decltype(m)>;
            if constexpr (std::is_same_v<M, proto::ActionRequest>) {
                actions_.push_back({m.id, m.action, m.guest});
                inventory_->request(m.action, std::move(m.guest));
            } else if constexpr (std::is_same_v<M, proto::GraphicsRequest>) {
                inventory_->open_graphics(std::move(m.guest), m.graphics_index,
                                          [send, id = m.id](int fd, std::string error) {
                                              guestview::OwnedFd owned{fd};
                                              const bool has_fd = owned.get() >= 0;
                                              send(proto::GraphicsReply{id, has_fd, std::move(error)}, std::move(owned));
                                          });
            } else if constexpr (std::is_same_v<M, proto::ScreenshotRequest>) {
                inventory_->screenshot(std::move(m.guest), m.screen,
                                       [send, id = m.id](std::string image, std::string mime, std::string error) {
                                           send(proto::ScreenshotReply{id, std::move(image), std::move(mime),
                                                                       std::move(error)});
                                       });
            } else if constexpr (std::is_same_v<M, proto::IdentityRequest>) {
                inventory_->set_identity(std::move(m.guest), m.slot, m.colour,
                                         [send, id = m.id](bool ok, std::string error) {
                                             send(proto::DoneReply{id, ok, std::move(error)});
                                         });
            } else if constexpr (std::is_same_v<M, proto::AdoptRequest>) {
                inventory_->adopt(std::move(m.guest), [send, id = m.id](bool ok, std::string error) {
                    send(proto::DoneReply{id, ok, std::move(error)});
                });
            } else if constexpr (std::is_same_v<M, proto::CreateRequest>) {
                inventory_->create(std::move(m.spec), [send, id = m.id](bool ok, std::string message) {
                    send(proto::DoneReply{id, ok, std::move(message)});
                });
            } else if constexpr (std::is_same_v<M, proto::JobStartRequest>) {
                inventory_->start_job(std::move(m.request), [send, id = m.id](std::uint32_t job, std::string error) {
                    send(proto::JobStartedReply{id, job, std::move(error)});
                });
            } else if constexpr (std::is_same_v<M, proto::JobCancelRequest>) {
                inventory_->cancel_job(m.job_id);
            } else if constexpr (std::is_same_v<M, proto::UsbDeviceRequest>) {
                auto reply = [send, id = m.id](bool ok, std::string error) { send(proto::DoneReply{id, ok, std::move(error)}); };
                if (m.attach)
                    inventory_->attach_usb(std::move(m.guest), m.device, std::move(reply));
                else
                    inventory_->detach_usb(std::move(m.guest), m.device, std::move(reply));
            } else if constexpr (std::is_same_v<M, proto::UsbChoicesRequest>) {
                inventory_->set_usb_choices(std::move(m.guest), std::move(m.choices),
                                            [send, id = m.id](bool ok, std::string error) {
                                                send(proto::DoneReply{id, ok, std::move(error)});
                                            });
            } else {
                static_assert(std::is_same_v<M, proto::PlanRequest>);
                inventory_->plan(std::move(m.spec),
                                 [send, id = m.id](guestview::PlanView plan) { send(proto::PlanReply{id, std::move(plan)}); });
            }
        },
        *request);
    return true;
}

} // namespace phyllome::agent
