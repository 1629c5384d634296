#include "guestview/agent_inventory.hpp"

#include <cerrno>
#include <csignal>
#include <map>
#include <variant>

#include <poll.h>

#include <fmt/format.h>
#include <wayland-server-core.h>

#include "config/log.hpp"
#include "guestview/agent_channel.hpp"
#include "guestview/agent_process.hpp"
#include "guestview/agent_protocol.hpp"
#include "guestview/event_source.hpp"
#include "guestview/loop_mailbox.hpp"

namespace phyllome::guestview {
namespace {

namespace proto = agent;
using std::chrono::milliseconds;

constexpr milliseconds first_restart_delay{1000};
constexpr milliseconds max_restart_delay{30000};
// An agent that ran this long was healthy: the next restart is quick again.
constexpr milliseconds stable_uptime{30000};
// After the agent hangs up it should exit; if it has not by then, it is killed.
constexpr milliseconds exit_grace{2000};
// At destruction: how long the agent may take to close libvirt's connection.
constexpr int exit_wait_ms = 5000;
// Requests are small; this many bytes unread means the agent is stuck.
constexpr std::size_t max_queued_bytes = 4u << 20;

struct PendingAction {
    Action action;
    std::string guest;
};
struct PendingGraphics {
    std::function<void(int, std::string)> done;
};
struct PendingScreenshot {
    std::function<void(std::string, std::string, std::string)> done;
};
struct PendingDone {
    std::function<void(bool, std::string)> done;
};
struct PendingPlan {
    std::function<void(PlanView)> done;
};
struct PendingJob {
    std::function<void(std::uint32_t, std::string)> started;
};
using Pending = std::variant<PendingAction, PendingGraphics, PendingScreenshot, PendingDone, PendingPlan, PendingJob>;

std::string seconds_text(milliseconds delay) {
    return delay.count() % 1000 == 0 ? fmt::format("{} s", delay.count() / 1000)
                                      : fmt::format("{:.1f} s", static_cast<double>(delay.count()) / 1000.0);
}

} // namespace

struct AgentInventory::Impl {
    Impl(wl_event_loop* loop, std::string uri, Callbacks callbacks, std::string path, config::LogLevel level,
         milliseconds quiet_limit);
    ~Impl();

    void start();
    void on_channel_closed(std::uint64_t generation, std::string reason);
    void on_exited();
    void schedule_restart(std::string what);
    void fail_all(const std::string& error);
    bool on_frame(std::string_view body);
    bool handle(proto::Reply& reply);
    // Sends the request made by `make` with a fresh id; false when no agent is there to take it.
    template <typename Make>
    bool submit(Make make, Pending pending);
    std::string unavailable() const;
    template <typename Make> // a request answered by DoneReply; fails later when no agent is there
    void submit_done(Make make, std::function<void(bool, std::string)> done) {
        if (!submit(make, PendingDone{done}))
            mailbox.post([done = std::move(done), error = unavailable()] { done(false, error); });
    }
    void notify_changed() const {
        if (callbacks.changed)
            callbacks.changed();
    }
    void notify_jobs_changed() const {
        if (callbacks.jobs_changed)
            callbacks.jobs_changed();
    }

    static int on_exit_readable(int, std::uint32_t, void* data);
    static int on_restart_timer(void* data);
    static int on_kill_timer(void* data);
    static int on_quiet_timer(void* data);

    wl_event_loop* loop;
    Callbacks callbacks;
    std::string path;
    config::LogLevel level;
    milliseconds quiet_limit;
    ConnectionStatus status;
    std::vector<GuestInfo> guests;
    std::vector<JobInfo> jobs;

    std::optional<proto::AgentProcess> process;
    EventSourcePtr exit_source;
    std::unique_ptr<proto::Channel> channel;
    std::uint64_t channel_generation = 0; // tells a late close notice from the current channel's
    std::string stop_reason;               // why we dropped the agent, for the status once it exits
    std::chrono::steady_clock::time_point started_at;
    milliseconds next_delay{first_restart_delay};

    std::uint32_t next_id = 1;
    std::map<std::uint32_t, Pending> pending;

    LoopMailbox mailbox; // callbacks that must not run inside a call
    EventSourcePtr restart_timer;
    EventSourcePtr kill_timer;
    EventSourcePtr quiet_timer; // armed while we wait for the agent's first word on libvirt
};

AgentInventory::Impl::Impl(wl_event_loop* loop_, std::string uri, Callbacks callbacks_, std::string path_,
                           config::LogLevel level_, milliseconds quiet_limit_)
    : loop(loop_), callbacks(std::move(callbacks_)), path(std::move(path_)), level(level_),
      quiet_limit(quiet_limit_), status{ConnectionState::Connecting, std::move(uri), {}, {}}, mailbox(loop_),
      restart_timer(wl_event_loop_add_timer(loop_, &on_restart_timer, this)),
      kill_timer(wl_event_loop_add_timer(loop_, &on_kill_timer, this)),
      quiet_timer(wl_event_loop_add_timer(loop_, &on_quiet_timer, this)) {
    start();
    mailbox.post([this] { notify_changed(); }); // the first state, from the loop
}

AgentInventory::Impl::~Impl() {
    pending.clear(); // no callbacks from here on
    channel.reset(); // the agent sees the hang-up, closes libvirt's connection and exits
    if (!process)
        return;
    pollfd p{process->pidfd.get(), POLLIN, 0};
    int r = 0;
    do {
        r = poll(&p, 1, exit_wait_ms);
    } while (r < 0 && errno == EINTR);
    if (r == 0) {
        log::warn("libvirt agent: still running {} ms after the shell hung up; killing it", exit_wait_ms);
        kill(process->pid, SIGKILL);
    }
    proto::reap_agent(*process, true);
}

void AgentInventory::Impl::start() {
    std::string error;
    process = proto::spawn_agent(path, status.uri, level, error);
    if (!process) {
        log::error("libvirt agent: {}", error);
        schedule_restart("cannot start the libvirt agent: " + error);
        return;
    }
    stop_reason.clear();
    const std::uint64_t generation = ++channel_generation;
    try {
        channel = std::make_unique<proto::Channel>(
            loop, std::move(process->socket),
            proto::Channel::Handlers{[this](std::string_view body) { return on_frame(body); },
                                     [this, generation](std::string reason) {
                                         // Not from inside whatever call noticed it.
                                         mailbox.post([this, generation, reason = std::move(reason)]() mutable {
                                             on_channel_closed(generation, std::move(reason));
                                         });
                                     }},
            max_queued_bytes);
    } catch (const std::exception& e) {
        log::error("libvirt agent: {}", e.what());
        stop_reason = e.what();
        kill(process->pid, SIGKILL);
    }
    exit_source.reset(wl_event_loop_add_fd(loop, process->pidfd.get(), WL_EVENT_READABLE, &on_exit_readable, this));
    started_at = std::chrono::steady_clock::now();
    status = {ConnectionState::Connecting, status.uri, {}, {}};
    wl_event_source_timer_update(quiet_timer.get(), static_cast<int>(quiet_limit.count()));
    log::debug("libvirt agent: started {} (pid {})", path, process->pid);
}

void AgentInventory::Impl::on_channel_closed(std::uint64_t generation, std::string reason) {
    if (generation != channel_generation || !channel)
        return;
    channel.reset();
    const bool hung_up = reason.starts_with("the peer hung up");
    if (process) {
        if (hung_up) {
            wl_event_source_timer_update(kill_timer.get(), static_cast<int>(exit_grace.count()));
        } else {
            if (reason != "a malformed message") // on_frame logged that one already
                log::error("libvirt agent: {}; stopping it", reason);
            stop_reason = std::move(reason);
            kill(process->pid, SIGKILL);
        }
    }
    fail_all("the libvirt agent stopped");
    guests.clear();
    status = {ConnectionState::Failed, status.uri,
              stop_reason.empty() ? "libvirt agent stopped" : "libvirt agent stopped (" + stop_reason + ")", {}};
    notify_changed();
}

void AgentInventory::Impl::on_exited() {
    if (!process)
        return;
    auto how = proto::reap_agent(*process, false);
    if (!how)
        return;
    exit_source.reset();
    wl_event_source_timer_update(kill_timer.get(), 0);
    process.reset();
    if (channel) { // the hang-up has not been read yet: the exit says it all
        channel.reset();
        ++channel_generation;
        fail_all("the libvirt agent stopped");
    }
    if (std::chrono::steady_clock::now() - started_at >= stable_uptime)
        next_delay = first_restart_delay;
    std::string why = stop_reason.empty() ? *how : stop_reason + "; " + *how;
    stop_reason.clear();
    schedule_restart(fmt::format("libvirt agent stopped ({})", why));
}

// `what` says what happened; the status adds when the next start comes.
void AgentInventory::Impl::schedule_restart(std::string what) {
    const milliseconds delay = next_delay;
    next_delay = std::min(next_delay * 2, max_restart_delay);
    guests.clear();
    status = {ConnectionState::Failed, status.uri,
              fmt::format("{}; restarting in {}", what, seconds_text(delay)), delay};
    log::warn("{}", status.error);
    wl_event_source_timer_update(restart_timer.get(), static_cast<int>(delay.count()));
    mailbox.post([this] { notify_changed(); }); // may be inside the constructor
}

void AgentInventory::Impl::fail_all(const std::string& error) {
    if (fail_unfinished_jobs(jobs, fmt::format("stopped half-way: {}", error)))
        mailbox.post([this] { notify_jobs_changed(); });
    auto failed = std::move(pending);
    pending.clear();
    for (auto& [id, p] : failed) {
        mailbox.post([this, p = std::move(p), error]() mutable {
            std::visit(
                [&](auto& m) {
                    using M = std::decay_t<decltype(m)>;
                    if constexpr (std::is_same_v<M, PendingAction>) {
                        if (callbacks.action_done)
                            callbacks.action_done(ActionResult{m.action, m.guest, false, error});
                    } else if constexpr (std::is_same_v<M, PendingGraphics>) {
                        m.done(-1, error);
                    } else if constexpr (std::is_same_v<M, PendingScreenshot>) {
                        m.done({}, {}, error);
                    } else if constexpr (std::is_same_v<M, PendingPlan>) {
                        PlanView failed;
                        failed.problem = error;
                        m.done(std::move(failed));
                    } else if constexpr (std::is_same_v<M, PendingJob>) {
                        m.started(0, error);
                    } else {
                        m.done(false, error);
                    }
                },
                p);
        });
    }
}

bool AgentInventory::Impl::on_frame(std::string_view body) {
    auto reply = proto::decode_reply(body);
    if (!reply) {
        log::error("libvirt agent: a malformed message ({} bytes); stopping it", body.size());
        return false;
    }
    return handle(*reply);
}

bool AgentInventory::Impl::handle(proto::Reply& reply) {
    if (auto* state = std::get_if<proto::StateUpdate>(&reply)) {
        wl_event_source_timer_update(quiet_timer.get(), 0);
        status = std::move(state->status);
        guests = std::move(state->guests);
        notify_changed();
        return true;
    }
    if (auto* update = std::get_if<proto::JobsUpdate>(&reply)) {
        jobs = merge_job_lists(std::move(update->jobs), jobs);
        notify_jobs_changed();
        return true;
    }
    if (auto* action = std::get_if<proto::ActionReply>(&reply); action != nullptr && action->id == 0) {
        if (callbacks.action_done) // a result the agent could not match to a request of ours
            callbacks.action_done(action->result);
        return true;
    }
    const std::uint32_t id = std::visit(
        [](const auto& m) -> std::uint32_t {
            if constexpr (std::is_same_v<std::decay_t<decltype(m)>, proto::StateUpdate> ||
                          std::is_same_v<std::decay_t<decltype(m)>, proto::JobsUpdate>)
                return 0;
            else
                return m.id;
        },
        reply);
    auto it = pending.find(id);
    if (it == pending.end()) {
        log::error("libvirt agent: a reply to no request (id {})", id);
        return false;
    }
    Pending p = std::move(it->second);
    pending.erase(it);
    if (auto* m = std::get_if<proto::ActionReply>(&reply); m && std::holds_alternative<PendingAction>(p)) {
        if (callbacks.action_done)
            callbacks.action_done(m->result);
        return true;
    }
    if (auto* m = std::get_if<proto::GraphicsReply>(&reply); m && std::holds_alternative<PendingGraphics>(p)) {
        OwnedFd fd = m->has_fd ? channel->take_fd() : OwnedFd{};
        if (m->has_fd && fd.get() < 0) {
            log::error("libvirt agent: a display reply without its fd");
            return false;
        }
        std::get<PendingGraphics>(p).done(fd.release(), std::move(m->error));
        return true;
    }
    if (auto* m = std::get_if<proto::ScreenshotReply>(&reply); m && std::holds_alternative<PendingScreenshot>(p)) {
        std::get<PendingScreenshot>(p).done(std::move(m->image), std::move(m->mime), std::move(m->error));
        return true;
    }
    if (auto* m = std::get_if<proto::PlanReply>(&reply); m && std::holds_alternative<PendingPlan>(p)) {
        std::get<PendingPlan>(p).done(std::move(m->plan));
        return true;
    }
    if (auto* m = std::get_if<proto::JobStartedReply>(&reply); m && std::holds_alternative<PendingJob>(p)) {
        std::get<PendingJob>(p).started(m->job_id, std::move(m->error));
        return true;
    }
    if (auto* m = std::get_if<proto::DoneReply>(&reply); m && std::holds_alternative<PendingDone>(p)) {
        std::get<PendingDone>(p).done(m->ok, std::move(m->message));
        return true;
    }
    log::error("libvirt agent: a reply of the wrong kind (id {})", id);
    return false;
}

template <typename Make>
bool AgentInventory::Impl::submit(Make make, Pending p) {
    if (!channel || !channel->open())
        return false;
    const std::uint32_t id = next_id++;
    if (next_id == 0) // 0 means "no request"
        next_id = 1;
    pending.emplace(id, std::move(p));
    std::string frame;
    proto::encode(proto::Request{make(id)}, frame);
    channel->send(std::move(frame)); // a failure closes the channel, which fails `pending`
    return true;
}

std::string AgentInventory::Impl::unavailable() const {
    return status.error.empty() ? "not connected to libvirt: the libvirt agent is not running"
                                : fmt::format("not connected to libvirt: {}", status.error);
}

int AgentInventory::Impl::on_exit_readable(int, std::uint32_t, void* data) {
    static_cast<Impl*>(data)->on_exited();
    return 0;
}

int AgentInventory::Impl::on_restart_timer(void* data) {
    auto* self = static_cast<Impl*>(data);
    if (self->process)
        return 0;
    log::info("libvirt agent: restarting");
    self->start();
    self->notify_changed();
    return 0;
}

int AgentInventory::Impl::on_quiet_timer(void* data) {
    auto* self = static_cast<Impl*>(data);
    if (!self->channel || self->status.state != ConnectionState::Connecting)
        return 0;
    self->status.error = fmt::format(
        "no answer for {} s: the libvirt daemon may be busy or hung. Still waiting; guests already shown are "
        "not affected.",
        self->quiet_limit.count() / 1000.0);
    log::warn("libvirt agent: {} has not answered for {} s", self->status.uri, self->quiet_limit.count() / 1000.0);
    self->notify_changed();
    return 0;
}

int AgentInventory::Impl::on_kill_timer(void* data) {
    auto* self = static_cast<Impl*>(data);
    if (self->process) {
        log::warn("libvirt agent: hung up but did not exit within {} ms; killing it", exit_grace.count());
        kill(self->process->pid, SIGKILL);
    }
    return 0;
}

AgentInventory::AgentInventory(wl_event_loop* loop, std::string uri, Callbacks callbacks, std::string agent_path,
                               config::LogLevel agent_log_level, milliseconds quiet_limit)
    : impl_(std::make_unique<Impl>(loop, std::move(uri), std::move(callbacks), std::move(agent_path),
                                   agent_log_level, quiet_limit)) {}

AgentInventory::~AgentInventory() = default;

const std::vector<GuestInfo>& AgentInventory::guests() const { return impl_->guests; }

const ConnectionStatus& AgentInventory::status() const { return impl_->status; }

pid_t AgentInventory::agent_pid() const { return impl_->process ? impl_->process->pid : -1; }

void AgentInventory::request(Action action, std::string guest) {
    if (impl_->submit([&](std::uint32_t id) { return proto::ActionRequest{id, action, guest}; },
                      PendingAction{action, guest}))
        return;
    impl_->mailbox.post([this, result = ActionResult{action, std::move(guest), false, impl_->unavailable()}] {
        if (impl_->callbacks.action_done)
            impl_->callbacks.action_done(result);
    });
}

void AgentInventory::open_graphics(std::string guest, int graphics_index,
                                   std::function<void(int fd, std::string error)> done) {
    auto make = [&](std::uint32_t id) { return proto::GraphicsRequest{id, guest, graphics_index}; };
    if (impl_->submit(make, PendingGraphics{done}))
        return;
    impl_->mailbox.post([done = std::move(done), error = impl_->unavailable()] { done(-1, error); });
}

void AgentInventory::screenshot(std::string guest, unsigned screen,
                                std::function<void(std::string image, std::string mime, std::string error)> done) {
    auto make = [&](std::uint32_t id) { return proto::ScreenshotRequest{id, guest, screen}; };
    if (impl_->submit(make, PendingScreenshot{done}))
        return;
    impl_->mailbox.post([done = std::move(done), error = impl_->unavailable()] { done({}, {}, error); });
}

void AgentInventory::set_identity(std::string guest, std::optional<int> slot, std::optional<std::uint32_t> colour,
                                  std::function<void(bool ok, std::string error)> done) {
    impl_->submit_done([&](std::uint32_t id) { return proto::IdentityRequest{id, guest, slot, colour}; }, done);
}

void AgentInventory::adopt(std::string guest, std::function<void(bool ok, std::string error)> done) {
    impl_->submit_done([&](std::uint32_t id) { return proto::AdoptRequest{id, guest}; }, std::move(done));
}

void AgentInventory::create(GuestSpec spec, std::function<void(bool ok, std::string message)> done) {
    impl_->submit_done([&](std::uint32_t id) { return proto::CreateRequest{id, spec}; }, std::move(done));
}

void AgentInventory::plan(GuestSpec spec, std::function<void(PlanView)> done) {
    auto make = [&](std::uint32_t id) { return proto::PlanRequest{id, spec}; };
    if (impl_->submit(make, PendingPlan{done}))
        return;
    impl_->mailbox.post([done = std::move(done), error = impl_->unavailable()] {
        PlanView failed;
        failed.problem = error;
        done(std::move(failed));
    });
}

void AgentInventory::start_job(JobRequest request, std::function<void(std::uint32_t id, std::string error)> started) {
    auto make = [&](std::uint32_t id) { return proto::JobStartRequest{id, request}; };
    if (impl_->submit(make, PendingJob{started}))
        return;
    impl_->mailbox.post([started = std::move(started), error = impl_->unavailable()] { started(0, error); });
}

void AgentInventory::cancel_job(std::uint32_t id) {
    if (!impl_->channel || !impl_->channel->open())
        return;
    std::string frame;
    proto::encode(proto::Request{proto::JobCancelRequest{id}}, frame);
    impl_->channel->send(std::move(frame));
}

const std::vector<JobInfo>& AgentInventory::jobs() const { return impl_->jobs; }

void AgentInventory::attach_usb(std::string guest, UsbHostdev device, std::function<void(bool, std::string)> done) {
    impl_->submit_done([&](std::uint32_t id) { return proto::UsbDeviceRequest{id, true, guest, device}; }, done);
}
void AgentInventory::detach_usb(std::string guest, UsbHostdev device, std::function<void(bool, std::string)> done) {
    impl_->submit_done([&](std::uint32_t id) { return proto::UsbDeviceRequest{id, false, guest, device}; }, done);
}
void AgentInventory::set_usb_choices(std::string guest, std::vector<usb::UsbChoice> choices,
                                     std::function<void(bool, std::string)> done) {
    impl_->submit_done([&](std::uint32_t id) { return proto::UsbChoicesRequest{id, guest, choices}; }, done);
}

} // namespace phyllome::guestview
