// The wire protocol between the shell (AgentInventory) and phyllome-libvirt-agent, over a
// SOCK_STREAM socketpair. Every message is a frame: a 4-byte little-endian length of what
// follows, then a 1-byte message type, then the fields in order (integers little-endian, strings
// as a 4-byte length and the bytes, optionals as a 1-byte flag and the value).
//
// Requests (shell to agent) carry an id; the reply to each names it. The agent pushes the whole
// state (connection status and guest list) on every change, before any reply that depends on
// it. A display fd travels with its GraphicsReply as SCM_RIGHTS ancillary data: the receiver
// queues fds in arrival order and a GraphicsReply with has_fd takes the oldest.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "guestview/guest_inventory.hpp"

namespace phyllome::guestview::agent {

// A frame's body may not exceed this: a 4K screenshot as PPM is 25 MB.
inline constexpr std::size_t max_frame_size = 64u << 20;
inline constexpr std::size_t frame_header_size = 4;

// Shell to agent.
struct ActionRequest {
    std::uint32_t id = 0;
    Action action = Action::Start;
    std::string guest;
    bool operator==(const ActionRequest&) const = default;
};
struct GraphicsRequest {
    std::uint32_t id = 0;
    std::string guest;
    std::int32_t graphics_index = -1;
    bool operator==(const GraphicsRequest&) const = default;
};
struct ScreenshotRequest {
    std::uint32_t id = 0;
    std::string guest;
    std::uint32_t screen = 0;
    bool operator==(const ScreenshotRequest&) const = default;
};
struct IdentityRequest {
    std::uint32_t id = 0;
    std::string guest;
    std::optional<int> slot;
    std::optional<std::uint32_t> colour;
    bool operator==(const IdentityRequest&) const = default;
};
struct AdoptRequest {
    std::uint32_t id = 0;
    std::string guest;
    bool operator==(const AdoptRequest&) const = default;
};
struct CreateRequest {
    std::uint32_t id = 0;
    GuestSpec spec;
    bool operator==(const CreateRequest& o) const;
};

// What create would make (GuestInventory::plan), nothing made.
struct PlanRequest {
    std::uint32_t id = 0;
    GuestSpec spec;
    bool operator==(const PlanRequest&) const = default;
};

// Long work (GuestInventory::start_job); answered by JobStarted, then followed by JobsUpdate.
struct JobStartRequest {
    std::uint32_t id = 0;
    JobRequest request;
    bool operator==(const JobStartRequest&) const = default;
};
// No answer: the job's end shows in the next JobsUpdate.
struct JobCancelRequest {
    std::uint32_t job_id = 0;
    bool operator==(const JobCancelRequest&) const = default;
};

// attach_usb (attach) or detach_usb; answered by DoneReply.
struct UsbDeviceRequest {
    std::uint32_t id = 0;
    bool attach = true;
    std::string guest;
    UsbHostdev device;
    bool operator==(const UsbDeviceRequest&) const = default;
};
// set_usb_choices; answered by DoneReply.
struct UsbChoicesRequest {
    std::uint32_t id = 0;
    std::string guest;
    std::vector<usb::UsbChoice> choices;
    bool operator==(const UsbChoicesRequest&) const = default;
};

// Agent to shell.
struct StateUpdate {
    ConnectionStatus status;
    std::vector<GuestInfo> guests;
    bool operator==(const StateUpdate& o) const;
};
struct ActionReply {
    std::uint32_t id = 0;
    ActionResult result;
    bool operator==(const ActionReply& o) const;
};
struct GraphicsReply {
    std::uint32_t id = 0;
    bool has_fd = false; // the fd arrives as SCM_RIGHTS with this frame
    std::string error;
    bool operator==(const GraphicsReply&) const = default;
};
struct ScreenshotReply {
    std::uint32_t id = 0;
    std::string image, mime, error;
    bool operator==(const ScreenshotReply&) const = default;
};
// set_identity, adopt, create and the USB requests.
struct DoneReply {
    std::uint32_t id = 0;
    bool ok = false;
    std::string message;
    bool operator==(const DoneReply&) const = default;
};

struct PlanReply {
    std::uint32_t id = 0;
    PlanView plan;
    bool operator==(const PlanReply&) const = default;
};

struct JobStartedReply {
    std::uint32_t id = 0;
    std::uint32_t job_id = 0; // 0: not started, see error
    std::string error;
    bool operator==(const JobStartedReply&) const = default;
};
// Every job the agent lists (running, then the last finished), whole, on every change.
struct JobsUpdate {
    std::vector<JobInfo> jobs;
    bool operator==(const JobsUpdate&) const = default;
};

using Request = std::variant<ActionRequest, GraphicsRequest, ScreenshotRequest, IdentityRequest, AdoptRequest,
                             CreateRequest, PlanRequest, JobStartRequest, JobCancelRequest, UsbDeviceRequest,
                             UsbChoicesRequest>;
using Reply = std::variant<StateUpdate, ActionReply, GraphicsReply, ScreenshotReply, DoneReply, PlanReply,
                           JobStartedReply, JobsUpdate>;

// Whole frames, header included, appended to `out`.
void encode(const Request& message, std::string& out);
void encode(const Reply& message, std::string& out);

// The body length a frame header announces, once `buffer` holds the header; nullopt while it
// is shorter. Callers reject lengths over max_frame_size (or zero) before waiting for the body.
std::optional<std::size_t> frame_length(std::string_view buffer);

// Decode one frame body (without its header). nullopt for an unknown type, a truncated or
// overlong body, or a value out of range (e.g. an unknown action).
std::optional<Request> decode_request(std::string_view body);
std::optional<Reply> decode_reply(std::string_view body);

} // namespace phyllome::guestview::agent
