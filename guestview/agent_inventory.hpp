// The shell's GuestInventory: libvirt runs in phyllome-libvirt-agent (agent/), a child process
// this object starts, talks to over a socketpair (agent_protocol.hpp) and restarts. So the
// compositor never loads libvirt, never blocks on it, and survives its crash.
//
// - Start-up costs one posix_spawn; status() is Connecting until the agent's first state. When
//   that takes longer than `quiet_limit` (a daemon that accepts and then never answers blocks
//   the agent in libvirt), the status's error says so while it keeps waiting.
// - Never blocks on the agent (except in the destructor, which waits up to 5 s for it to close
//   libvirt's connection and exit): non-blocking socket, bounded buffers.
// - When the agent dies, hangs up or sends something malformed (logged, then it is killed):
//   status() is Failed with the reason ("libvirt agent stopped (killed by signal 9); restarting
//   in 1 s"), the guest list empties, requests in flight fail, and the agent is started again
//   after 1 s doubling to 30 s (back to 1 s once it had run for 30 s). Display fds it handed
//   over already are ours and keep working.
// The GuestInventory rules hold: callbacks run on the loop, never inside a call, never after
// destruction.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include <sys/types.h>

#include "config/config.hpp"
#include "guestview/guest_inventory.hpp"

struct wl_event_loop;

namespace phyllome::guestview {

class AgentInventory final : public GuestInventory {
public:
    // `agent_path`: the agent program (agent::libvirt_agent_path() finds the usual one).
    AgentInventory(wl_event_loop* loop, std::string uri, Callbacks callbacks, std::string agent_path,
                   config::LogLevel agent_log_level,
                   std::chrono::milliseconds quiet_limit = std::chrono::seconds(10));
    ~AgentInventory() override;
    AgentInventory(const AgentInventory&) = delete;
    AgentInventory& operator=(const AgentInventory&) = delete;

    const std::vector<GuestInfo>& guests() const override;
    const ConnectionStatus& status() const override;
    void request(Action action, std::string guest) override;
    void open_graphics(std::string guest, int graphics_index,
                       std::function<void(int fd, std::string error)> done) override;
    void screenshot(std::string guest, unsigned screen,
                    std::function<void(std::string image, std::string mime, std::string error)> done) override;
    void set_identity(std::string guest, std::optional<int> slot, std::optional<std::uint32_t> colour,
                      std::function<void(bool ok, std::string error)> done) override;
    void adopt(std::string guest, std::function<void(bool ok, std::string error)> done) override;
    void create(GuestSpec spec, std::function<void(bool ok, std::string message)> done) override;
    void plan(GuestSpec spec, std::function<void(PlanView)> done) override;
    // Jobs run in the agent; when it dies, its running jobs end Failed ("stopped half-way").
    void start_job(JobRequest request, std::function<void(std::uint32_t id, std::string error)> started) override;
    void cancel_job(std::uint32_t id) override;
    const std::vector<JobInfo>& jobs() const override;
    void attach_usb(std::string guest, UsbHostdev device, std::function<void(bool ok, std::string error)> done) override;
    void detach_usb(std::string guest, UsbHostdev device, std::function<void(bool ok, std::string error)> done) override;
    void set_usb_choices(std::string guest, std::vector<usb::UsbChoice> choices,
                         std::function<void(bool ok, std::string error)> done) override;

    // The running agent's process id, or -1 while none runs.
    pid_t agent_pid() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

} // namespace phyllome::guestview
