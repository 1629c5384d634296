// The host readiness check (libvirt, QEMU's D-Bus display, KVM, IOMMU, 3D), run once off the
// loop because it can take seconds, and the one line the overlay shows of it. Its libvirt item
// follows the inventory's live state: the inventory holds the connection (and an embedded root
// admits one process), so the check never probes libvirt itself.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "guestview/guest_inventory.hpp"
#include "guestview/loop_mailbox.hpp"
#include "session/host_check.hpp"

namespace phyllome::compositor {

class HostReadiness {
public:
    // `changed` runs on the loop when the summary line changes.
    HostReadiness(wl_event_loop* loop, std::function<void()> changed);
    ~HostReadiness(); // waits for the check: it posts to this object
    HostReadiness(const HostReadiness&) = delete;
    HostReadiness& operator=(const HostReadiness&) = delete;

    // Starts the check (once) for the libvirt the inventory uses; "checking…" until it ends.
    void start(std::string libvirt_uri);
    // The inventory's connection changed.
    void libvirt_changed(const guestview::ConnectionStatus& status);
    const std::string& summary() const { return summary_; }
    // virgl worked in the check: new guests get 3D.
    bool has_virgl() const { return has_virgl_; }

private:
    void update_summary();

    std::function<void()> changed_;
    std::string summary_ = "Host readiness: checking…";
    std::optional<session::HostReport> report_; // once checked
    guestview::ConnectionStatus libvirt_;
    bool has_virgl_ = false;
    guestview::LoopMailbox mailbox_;
    std::jthread check_; // last: joined before the mailbox goes
};

} // namespace phyllome::compositor
