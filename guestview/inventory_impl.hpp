// Inventory's private state, shared by its two halves: inventory.cpp keeps the connection and
// the guest list current (connect, reconnect, libvirt events), inventory_requests.cpp runs what
// the owner asks for on the worker thread and reports back on the loop.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "guestview/action_worker.hpp"
#include "guestview/domain_metadata.hpp"
#include "guestview/event_source.hpp"
#include "guestview/inventory.hpp"
#include "guestview/jobs/job_runner.hpp"
#include "guestview/libvirt_event_bridge.hpp"
#include "guestview/libvirt_handles.hpp"
#include "guestview/libvirt_socket_watch.hpp"
#include "guestview/loop_mailbox.hpp"
#include "guestview/os_info.hpp"

namespace phyllome::guestview {

struct Inventory::Impl {
    static constexpr std::chrono::milliseconds first_retry_delay{1000};
    static constexpr std::chrono::milliseconds os_db_idle_time{60000};

    Impl(wl_event_loop* loop, std::string uri, Callbacks callbacks);
    ~Impl();

    void connect();
    bool open_connection(std::string& error);
    void disconnect();
    void fail(std::string error);
    void connection_lost(std::uint64_t generation, int reason);
    void watch_socket();
    void on_socket_appeared();

    bool refresh_all(std::string& error);
    bool refresh_domain(virDomainPtr domain, bool reread_xml);
    bool refresh_by_name(const std::string& name, bool reread_xml = false);
    GuestInfo* find_mutable(std::string_view name);
    bool erase_guest(std::string_view name);

    void request(Action action, std::string guest);
    // Why a request for `guest` cannot go to libvirt (not connected, no such guest), or empty.
    std::string unreachable(const std::string& guest);
    void reject_later(Action action, std::string guest, std::string error);
    void open_graphics(std::string guest, int graphics_index, std::function<void(int, std::string)> done);
    void screenshot(std::string guest, unsigned screen,
                    std::function<void(std::string, std::string, std::string)> done);
    void set_identity(std::string guest, GuestIdentity identity, std::function<void(bool, std::string)> done);
    void run_definition_job(std::string guest, std::string early_error,
                            std::function<std::pair<bool, std::string>(virConnectPtr)> job,
                            std::function<void(bool, std::string)> done);
    void finish(ActionResult result);
    // A restart the guest made itself (a reboot, or powering off): counted toward its
    // installer's eject on the worker when it has one.
    void count_restart(const std::string& name);
    void notify_changed() const;

    static int on_lifecycle(virConnectPtr, virDomainPtr domain, int event, int detail, void* opaque);
    static void on_reboot(virConnectPtr, virDomainPtr domain, void* opaque);
    static void on_qemu_reset(virConnectPtr, virDomainPtr domain, const char* event, long long seconds,
                              unsigned micros, const char* details, void* opaque);
    static void on_metadata_change(virConnectPtr, virDomainPtr domain, int type, const char* nsuri, void* opaque);
    static void on_close(virConnectPtr, int reason, void* opaque);
    // A device added or removed (inventory_usb.cpp): its USB hostdevs change.
    static void on_device_changed(virConnectPtr, virDomainPtr domain, const char* alias, void* opaque);
    static int on_retry_timer(void* data);
    static int on_os_db_idle(void* data);
    void os_db_used(); // on the loop, after a job that used the OS database
    static void on_initial_notify(void* data);

    // First, so it is destroyed last: libvirt's free callbacks run when it unbinds.
    std::shared_ptr<LibvirtEventBridge> bridge;
    Callbacks callbacks;
    ConnectionStatus status;
    std::vector<GuestInfo> guests; // in guest_order
    std::chrono::milliseconds next_retry_delay{first_retry_delay};
    // Local daemons only: where their socket reappears, and the quick tries left after it did.
    std::string socket_directory;
    std::unique_ptr<LibvirtSocketWatch> socket_watch;
    int quick_retries = 0;
    wl_event_loop* event_loop;

    LoopMailbox mailbox; // worker results and close notifications reach the loop through it
    EventSourcePtr retry_timer;
    EventSourcePtr initial_notify;
    // The OS database takes ~55 MB once loaded: it goes a minute after the last plan or create.
    EventSourcePtr os_db_idle_timer;

    ConnectionPtr connection;
    int lifecycle_callback_id = -1;
    int metadata_callback_id = -1;
    int reboot_callback_id = -1;
    int device_removed_callback_id = -1;
    int device_added_callback_id = -1;
    int qemu_reset_callback_id = -1; // set: QEMU's RESET events count restarts, not REBOOT
    bool close_callback_registered = false;
    // Read by libvirt's close callback on any thread; tells a stale notification from a live one.
    std::atomic<std::uint64_t> connection_generation{0};

    // Guests whose shutdown the host asked for (our Shutdown, or QEMU saying so): their stop is
    // no restart of the installer. Cleared when they stop, or when our request fails (not when
    // they start: the STARTED event may reach us after a Shutdown asked right after the start).
    std::set<std::string, std::less<>> host_shutdowns;
    // Installer restarts this process counted per guest, for the log line of the eject.
    std::map<std::string, int, std::less<>> installer_restarts;

    bool constructed = false; // no callbacks from inside the constructor
    // Used on the worker only; shared with its jobs, which may outlive a reconnect.
    std::shared_ptr<LazyOsDatabase> os_db = std::make_shared<LazyOsDatabase>();

    // Long jobs (duplicate, back up, ...), each on its own thread; before the worker, so it is
    // destroyed after it (its end re-reads guests through the connection).
    JobRunner job_runner;
    void start_job(JobRequest request, std::function<void(std::uint32_t, std::string)> started);
    void job_ended(const JobInfo& info, const JobOutcome& outcome);

    ActionWorker worker; // last, so it starts after everything it posts to exists
};

} // namespace phyllome::guestview
