// Inventory's connection and guest list: connecting, reconnecting with backoff, and libvirt's
// events keeping guests() current. Requests live in inventory_requests.cpp.
#include "guestview/inventory_impl.hpp"
#include "guestview/jobs/guest_snapshots.hpp"
#include "guestview/embedded_libvirt.hpp"

#include <algorithm>
#include <atomic>
#include <optional>

#include <unistd.h>

#include <libvirt/libvirt-qemu.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <wayland-server-core.h>

#include "config/log.hpp"
#include "guestview/domain_graphics.hpp"
#include "guestview/domain_state.hpp"
#include "guestview/installer_media.hpp"
#include "guestview/usb_hostdev_xml.hpp"

namespace phyllome::guestview {
namespace {

// libvirt takes every event callback as the generic type and calls it with the event's own
// signature (its VIR_DOMAIN_EVENT_CALLBACK macro is this cast). Going through void (*)() says
// so to the compiler, which otherwise warns (clang 19: -Wcast-function-type-mismatch).
template <typename Callback>
virConnectDomainEventGenericCallback generic_callback(Callback* callback) {
    return reinterpret_cast<virConnectDomainEventGenericCallback>(reinterpret_cast<void (*)()>(callback));
}

constexpr std::chrono::milliseconds max_retry_delay{30000};
// After a daemon socket appears: the daemon binds it a moment before it listens, so the first
// attempt may be refused; a few quick tries (50 ms doubling, 1.55 s in all) cover that.
constexpr std::chrono::milliseconds socket_settle_delay{50};
constexpr int quick_retries_after_socket = 5;

// Keepalive lets a remote connection notice a dead or hung libvirtd: probe every 5 s, give up
// after 3 unanswered probes.
constexpr int keepalive_interval_s = 5;
constexpr unsigned keepalive_count = 3;

const char* close_reason_text(int reason) {
    switch (reason) {
    case VIR_CONNECT_CLOSE_REASON_ERROR: return "socket error";
    case VIR_CONNECT_CLOSE_REASON_EOF: return "libvirt closed the connection";
    case VIR_CONNECT_CLOSE_REASON_KEEPALIVE: return "libvirt stopped answering";
    case VIR_CONNECT_CLOSE_REASON_CLIENT: return "closed by the client";
    default: return "unknown reason";
    }
}

// Reads one domain; nullopt when libvirt cannot tell (e.g. the domain is gone).
// With `known`, its graphics and identity are kept instead of re-reading the XML.
std::optional<GuestInfo> read_guest(virDomainPtr domain, const GuestInfo* known) {
    int state = VIR_DOMAIN_NOSTATE;
    int reason = 0;
    if (virDomainGetState(domain, &state, &reason, 0) < 0)
        return std::nullopt;

    GuestInfo info;
    if (known != nullptr) {
        info = *known;
    } else {
        info.name = virDomainGetName(domain);
        char uuid[VIR_UUID_STRING_BUFLEN] = {};
        if (virDomainGetUUIDString(domain, uuid) == 0)
            info.uuid = uuid;
        GraphicsInfo graphics;
        GuestIdentity identity;
        if (LibvirtString xml{virDomainGetXMLDesc(domain, 0)}) {
            graphics = graphics_from_domain_xml(xml.get());
            identity = identity_from_domain_xml(xml.get(), info.name);
            info.installer_attached = installer_from_domain_xml(xml.get(), info.name).has_value();
            DomainUsb usb = usb_from_domain_xml(xml.get());
            info.usb_devices = std::move(usb.hostdevs);
            info.usb_controller = usb.controller;
            info.usb_choices = usb_choices_from_domain_xml(xml.get(), info.name);
        } else {
            graphics = {GraphicsSupport::None, -1, "its configuration could not be read: " + last_libvirt_error()};
        }
        info.graphics = graphics.support;
        info.dbus_graphics_index = graphics.dbus_graphics_index;
        info.graphics_note = std::move(graphics.note);
        info.slot = identity.slot;
        info.colour = identity.colour;
        // Snapshots change only through their jobs, which read the guest again when they end.
        for (SnapshotInfo& snap : list_snapshots(domain))
            info.snapshots.push_back({std::move(snap.name), snap.created, snap.state != "shut off", snap.current});
    }
    info.state = guest_state_from_libvirt(state);
    info.state_reason = describe_state(state, reason);
    const unsigned id = virDomainGetID(domain); // (unsigned)-1 while shut off
    info.domain_id = id == static_cast<unsigned>(-1) ? -1 : static_cast<int>(id);
    if (info.domain_id < 0)
        info.usb_devices.clear(); // live devices only: they went with QEMU
    return info;
}

// The order of guests(): slotted guests first by slot, then by name. A missing slot sorts
// after every slot.
bool guest_order(const GuestInfo& a, const GuestInfo& b) {
    constexpr int no_slot = max_slot + 1;
    return std::pair{a.slot.value_or(no_slot), std::string_view{a.name}} <
           std::pair{b.slot.value_or(no_slot), std::string_view{b.name}};
}

} // namespace

Inventory::Impl::Impl(wl_event_loop* loop, std::string uri, Callbacks callbacks_)
    : bridge(LibvirtEventBridge::attach(loop)),
      callbacks(std::move(callbacks_)),
      status{ConnectionState::Connecting, std::move(uri), {}, {}},
      socket_directory(libvirt_socket_directory(status.uri, geteuid() == 0)),
      event_loop(loop),
      mailbox(loop),
      retry_timer(wl_event_loop_add_timer(loop, &on_retry_timer, this)),
      os_db_idle_timer(wl_event_loop_add_timer(loop, &on_os_db_idle, this)),
      job_runner(
          mailbox,
          [this] {
              if (callbacks.jobs_changed)
                  callbacks.jobs_changed();
          },
          [this](const JobInfo& info, const JobOutcome& outcome) { job_ended(info, outcome); }),
      worker([this](ActionResult result) {
          mailbox.post([this, result = std::move(result)]() mutable { finish(std::move(result)); });
      }) {
    connect();
    constructed = true;
    // The first state is readable right away; `changed` reports it from the loop like any later
    // change, never from inside this constructor.
    initial_notify.reset(wl_event_loop_add_idle(loop, &on_initial_notify, this));
}

Inventory::Impl::~Impl() {
    worker.stop(); // it may be inside a libvirt call on our connection
    disconnect();
}

void Inventory::Impl::connect() {
    status.state = ConnectionState::Connecting;
    std::string error;
    if (!open_connection(error)) {
        disconnect();
        fail(std::move(error));
        return;
    }
    status = {ConnectionState::Connected, status.uri, {}, {}};
    next_retry_delay = first_retry_delay;
    quick_retries = 0;
    socket_watch.reset();
    log::info("libvirt: connected to {} ({} guests)", status.uri, guests.size());
}

bool Inventory::Impl::open_connection(std::string& error) {
    // Read/write: starting and stopping guests needs it. No auth callback: a session has no
    // terminal to prompt on, access comes from group membership or polkit.
    if (std::string problem = prepare_embedded_root(status.uri); !problem.empty())
        log::warn("libvirt: {}", problem);
    connection.reset(virConnectOpen(status.uri.c_str()));
    if (!connection) {
        error = last_libvirt_error();
        return false;
    }
    connection_generation.fetch_add(1);
    if (virConnectSetKeepAlive(connection.get(), keepalive_interval_s, keepalive_count) < 0)
        virResetLastError(); // local drivers have no keepalive, and need none

    if (virConnectRegisterCloseCallback(connection.get(), &on_close, this, nullptr) == 0)
        close_callback_registered = true;
    else
        log::debug("libvirt: no close notification for {}: {}", status.uri, last_libvirt_error());

    lifecycle_callback_id = virConnectDomainEventRegisterAny(
        connection.get(), nullptr, VIR_DOMAIN_EVENT_ID_LIFECYCLE, generic_callback(&on_lifecycle), this,
        nullptr);
    if (lifecycle_callback_id < 0) {
        error = "cannot subscribe to guest events: " + last_libvirt_error();
        return false;
    }
    // Identity edits made elsewhere (virsh metadata, another shell) arrive through this one.
    metadata_callback_id = virConnectDomainEventRegisterAny(
        connection.get(), nullptr, VIR_DOMAIN_EVENT_ID_METADATA_CHANGE,
        generic_callback(&on_metadata_change), this, nullptr);
    if (metadata_callback_id < 0)
        log::debug("libvirt: no metadata events from {}: {}", status.uri, last_libvirt_error());
    // Restarts toward the installer's eject. libvirt's REBOOT event comes with every QEMU reset,
    // the guest's own and the host's (virDomainReset, virDomainReboot) alike; QEMU's RESET event
    // tells them apart, so where libvirt-qemu gives it (the QEMU driver) only that one counts.
    qemu_reset_callback_id = virConnectDomainQemuMonitorEventRegister(connection.get(), nullptr, "RESET",
                                                                      &on_qemu_reset, this, nullptr, 0);
    if (qemu_reset_callback_id < 0) {
        log::debug("libvirt: no QEMU reset events from {} ({}); counting every reboot", status.uri,
                   last_libvirt_error());
        virResetLastError();
    }
    reboot_callback_id = virConnectDomainEventRegisterAny(connection.get(), nullptr, VIR_DOMAIN_EVENT_ID_REBOOT,
                                                          generic_callback(&on_reboot), this, nullptr);
    if (reboot_callback_id < 0)
        log::debug("libvirt: no reboot events from {}: {}", status.uri, last_libvirt_error());
    // USB hostdevs QEMU drops (a device unplugged) leave the live XML with these.
    device_removed_callback_id = virConnectDomainEventRegisterAny(
        connection.get(), nullptr, VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED, generic_callback(&on_device_changed), this, nullptr);
    device_added_callback_id = virConnectDomainEventRegisterAny(
        connection.get(), nullptr, VIR_DOMAIN_EVENT_ID_DEVICE_ADDED, generic_callback(&on_device_changed), this, nullptr);
    if (device_removed_callback_id < 0 || device_added_callback_id < 0) {
        log::debug("libvirt: no device events from {}: {}", status.uri, last_libvirt_error());
        virResetLastError();
    }
    return refresh_all(error);
}

void Inventory::Impl::disconnect() {
    if (!connection)
        return;
    if (lifecycle_callback_id >= 0 &&
        virConnectDomainEventDeregisterAny(connection.get(), lifecycle_callback_id) < 0)
        virResetLastError(); // a dead connection has nothing left to deregister
    lifecycle_callback_id = -1;
    if (metadata_callback_id >= 0 && virConnectDomainEventDeregisterAny(connection.get(), metadata_callback_id) < 0)
        virResetLastError();
    metadata_callback_id = -1;
    if (reboot_callback_id >= 0 && virConnectDomainEventDeregisterAny(connection.get(), reboot_callback_id) < 0)
        virResetLastError();
    reboot_callback_id = -1;
    for (int* id : {&device_removed_callback_id, &device_added_callback_id}) {
        if (*id >= 0 && virConnectDomainEventDeregisterAny(connection.get(), *id) < 0)
            virResetLastError();
        *id = -1;
    }
    if (qemu_reset_callback_id >= 0 &&
        virConnectDomainQemuMonitorEventDeregister(connection.get(), qemu_reset_callback_id) < 0)
        virResetLastError();
    qemu_reset_callback_id = -1;
    if (close_callback_registered && virConnectUnregisterCloseCallback(connection.get(), &on_close) < 0)
        virResetLastError();
    close_callback_registered = false;
    connection.reset();
    guests.clear(); // what we knew is stale without a connection
}

void Inventory::Impl::fail(std::string error) {
    watch_socket();
    std::chrono::milliseconds delay = next_retry_delay;
    if (quick_retries > 0) {
        delay = socket_settle_delay * (1 << (quick_retries_after_socket - quick_retries));
        --quick_retries;
    } else {
        next_retry_delay = std::min(next_retry_delay * 2, max_retry_delay);
    }
    if (socket_watch && socket_watch->watching())
        error += fmt::format("; reconnecting as soon as its socket reappears in {}", socket_watch->directory());
    status = {ConnectionState::Failed, status.uri, std::move(error), delay};
    wl_event_source_timer_update(retry_timer.get(), static_cast<int>(delay.count()));
    log::warn("libvirt: cannot use {}: {} (retrying in {} ms)", status.uri, status.error, status.retry_in.count());
    notify_changed();
}

// A watch on the daemon's socket directory, made when it is first needed, and again while the
// directory is missing (a daemon that never ran may create it).
void Inventory::Impl::watch_socket() {
    if (socket_directory.empty() || (socket_watch && socket_watch->watching()))
        return;
    socket_watch = std::make_unique<LibvirtSocketWatch>(event_loop, socket_directory, [this] { on_socket_appeared(); });
    if (!socket_watch->watching())
        log::debug("libvirt: {}; retrying on a timer only", socket_watch->problem());
}

void Inventory::Impl::on_socket_appeared() {
    if (connection)
        return;
    log::info("libvirt: a daemon socket appeared in {}, reconnecting", socket_directory);
    quick_retries = quick_retries_after_socket;
    status.retry_in = socket_settle_delay;
    wl_event_source_timer_update(retry_timer.get(), static_cast<int>(socket_settle_delay.count()));
    notify_changed();
}

void Inventory::Impl::connection_lost(std::uint64_t generation, int reason) {
    if (!connection || generation != connection_generation.load())
        return; // about a connection we already replaced
    disconnect();
    next_retry_delay = first_retry_delay;
    fail(std::string{"lost the connection to libvirt: "} + close_reason_text(reason));
}

bool Inventory::Impl::refresh_all(std::string& error) {
    virDomainPtr* list = nullptr;
    const int count = virConnectListAllDomains(connection.get(), &list, 0);
    if (count < 0) {
        error = "cannot list guests: " + last_libvirt_error();
        return false;
    }
    std::vector<DomainPtr> domains;
    for (int i = 0; i < count; ++i)
        domains.emplace_back(list[i]);
    std::free(list);

    std::vector<GuestInfo> fresh;
    for (const auto& domain : domains)
        if (auto info = read_guest(domain.get(), nullptr))
            fresh.push_back(std::move(*info));
    std::ranges::sort(fresh, guest_order);
    guests = std::move(fresh);
    return true;
}

// Returns whether the list changed.
bool Inventory::Impl::refresh_domain(virDomainPtr domain, bool reread_xml) {
    const std::string name = virDomainGetName(domain);
    GuestInfo* known = find_mutable(name);
    auto info = read_guest(domain, reread_xml ? nullptr : known);
    if (!info) {
        if (virGetLastErrorCode() == VIR_ERR_NO_DOMAIN)
            return erase_guest(name);
        log::debug("libvirt: cannot read guest '{}': {}", name, last_libvirt_error());
        return false;
    }
    if (known != nullptr) {
        if (*known == *info)
            return false;
        const bool moves = known->slot != info->slot;
        *known = std::move(*info);
        if (moves) // a new slot is a new place in the list
            std::ranges::sort(guests, guest_order);
        return true;
    }
    guests.insert(std::ranges::upper_bound(guests, *info, guest_order), std::move(*info));
    return true;
}

bool Inventory::Impl::refresh_by_name(const std::string& name, bool reread_xml) {
    DomainPtr domain{virDomainLookupByName(connection.get(), name.c_str())};
    if (!domain)
        return virGetLastErrorCode() == VIR_ERR_NO_DOMAIN && erase_guest(name);
    return refresh_domain(domain.get(), reread_xml);
}

GuestInfo* Inventory::Impl::find_mutable(std::string_view name) {
    auto it = std::ranges::find(guests, name, &GuestInfo::name);
    return it == guests.end() ? nullptr : &*it;
}

bool Inventory::Impl::erase_guest(std::string_view name) {
    return std::erase_if(guests, [&](const GuestInfo& guest) { return guest.name == name; }) > 0;
}

void Inventory::Impl::notify_changed() const {
    if (constructed && callbacks.changed)
        callbacks.changed();
}

int Inventory::Impl::on_lifecycle(virConnectPtr, virDomainPtr domain, int event, int detail, void* opaque) {
    auto* self = static_cast<Impl*>(opaque);
    // Only a (re)definition or a start can change the devices; other events change the state.
    const bool reread_xml = event == VIR_DOMAIN_EVENT_DEFINED || event == VIR_DOMAIN_EVENT_STARTED;
    if (self->refresh_domain(domain, reread_xml))
        self->notify_changed();

    // A guest that powers itself off restarts its installer too (some set on_reboot=destroy).
    // QEMU tells a shutdown the host caused (a signal) by the SHUTDOWN event's detail.
    const std::string name = virDomainGetName(domain);
    if (event == VIR_DOMAIN_EVENT_SHUTDOWN && detail == VIR_DOMAIN_EVENT_SHUTDOWN_HOST)
        self->host_shutdowns.insert(name);
    if (event == VIR_DOMAIN_EVENT_STOPPED) {
        const bool by_host = self->host_shutdowns.erase(name) > 0;
        if (detail == VIR_DOMAIN_EVENT_STOPPED_SHUTDOWN && !by_host)
            self->count_restart(name);
    }
    return 0;
}

void Inventory::Impl::on_reboot(virConnectPtr, virDomainPtr domain, void* opaque) {
    auto* self = static_cast<Impl*>(opaque);
    if (self->qemu_reset_callback_id < 0) // else QEMU's own event counts, knowing who reset
        self->count_restart(virDomainGetName(domain));
}

void Inventory::Impl::on_qemu_reset(virConnectPtr, virDomainPtr domain, const char*, long long, unsigned,
                                    const char* details, void* opaque) {
    if (details != nullptr && reset_by_guest(details))
        static_cast<Impl*>(opaque)->count_restart(virDomainGetName(domain));
}

void Inventory::Impl::on_metadata_change(virConnectPtr, virDomainPtr domain, int type, const char* nsuri,
                                         void* opaque) {
    // Titles, descriptions and other programs' elements do not concern us.
    if (type != VIR_DOMAIN_METADATA_ELEMENT || nsuri == nullptr ||
        (identity_namespace != nsuri && installer_namespace != nsuri && usb_namespace != nsuri))
        return;
    auto* self = static_cast<Impl*>(opaque);
    if (self->refresh_domain(domain, true))
        self->notify_changed();
}

void Inventory::Impl::on_close(virConnectPtr, int reason, void* opaque) {
    // Any thread (e.g. the worker noticing a dead socket): handle it on the loop.
    auto* self = static_cast<Impl*>(opaque);
    const std::uint64_t generation = self->connection_generation.load();
    self->mailbox.post([self, generation, reason] { self->connection_lost(generation, reason); });
}

int Inventory::Impl::on_retry_timer(void* data) {
    auto* self = static_cast<Impl*>(data);
    self->connect();
    if (self->status.state == ConnectionState::Connected)
        self->notify_changed();
    return 0;
}

void Inventory::Impl::os_db_used() {
    wl_event_source_timer_update(os_db_idle_timer.get(), static_cast<int>(os_db_idle_time.count()));
}

int Inventory::Impl::on_os_db_idle(void* data) {
    auto* self = static_cast<Impl*>(data);
    self->worker.submit_call([os_db = self->os_db] { os_db->release(); });
    return 0;
}

void Inventory::Impl::on_initial_notify(void* data) {
    auto* self = static_cast<Impl*>(data);
    (void)self->initial_notify.release(); // wayland removes an idle source after dispatching it
    self->notify_changed();
}

Inventory::Inventory(wl_event_loop* loop, std::string uri, Callbacks callbacks)
    : impl_(std::make_unique<Impl>(loop, std::move(uri), std::move(callbacks))) {}

Inventory::~Inventory() = default;

const std::vector<GuestInfo>& Inventory::guests() const { return impl_->guests; }

const ConnectionStatus& Inventory::status() const { return impl_->status; }

virConnectPtr Inventory::connection() const {
    return impl_->status.state == ConnectionState::Connected ? impl_->connection.get() : nullptr;
}

} // namespace phyllome::guestview