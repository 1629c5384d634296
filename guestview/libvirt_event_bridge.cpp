#include "guestview/libvirt_event_bridge.hpp"

#include <cstdint>
#include <map>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <wayland-server-core.h>

#include "config/log.hpp"
#include "guestview/event_source.hpp"
#include "guestview/loop_mailbox.hpp"

namespace phyllome::guestview {
namespace {

struct WatchedFd {
    int fd;
    int events; // VIR_EVENT_HANDLE_* libvirt wants
    virEventHandleCallback callback;
    void* opaque;
    virFreeCallback free_opaque;
    bool removed = false;
    EventSourcePtr source; // present only while bound and events != 0
    uint32_t applied_mask = 0;
};

struct Timeout {
    int interval_ms; // -1 disabled, 0 every loop iteration, N every N ms
    virEventTimeoutCallback callback;
    void* opaque;
    virFreeCallback free_opaque;
    bool removed = false;
    bool needs_arming = true; // set by libvirt's update: restart the countdown
    EventSourcePtr source;
};

struct PendingFree {
    virFreeCallback free_opaque;
    void* opaque;
};

// libvirt's event table: process-wide because libvirt's event API is (see the header).
struct EventTable {
    std::mutex mutex;
    std::map<int, WatchedFd> fds;
    std::map<int, Timeout> timeouts;
    int next_fd_id = 1;
    int next_timeout_id = 1;
    std::vector<PendingFree> pending_frees;

    // The current binding to a wl_event_loop, if any.
    const LibvirtEventBridge* bridge = nullptr;
    wl_event_loop* loop = nullptr;
    std::thread::id loop_thread;
    std::unique_ptr<LoopMailbox> wakeup;
    bool sync_posted = false;
    EventSourcePtr free_idle;

    std::once_flag registered;
    std::mutex attach_mutex;
    std::weak_ptr<LibvirtEventBridge> shared_bridge;
};

EventTable& table() {
    static EventTable instance;
    return instance;
}

void* id_to_data(int id) { return reinterpret_cast<void*>(static_cast<intptr_t>(id)); }
int data_to_id(void* data) { return static_cast<int>(reinterpret_cast<intptr_t>(data)); }

uint32_t to_wl_mask(int events) {
    uint32_t mask = 0;
    if (events & VIR_EVENT_HANDLE_READABLE)
        mask |= WL_EVENT_READABLE;
    if (events & VIR_EVENT_HANDLE_WRITABLE)
        mask |= WL_EVENT_WRITABLE;
    return mask;
}

int to_libvirt_events(uint32_t mask) {
    int events = 0;
    if (mask & WL_EVENT_READABLE)
        events |= VIR_EVENT_HANDLE_READABLE;
    if (mask & WL_EVENT_WRITABLE)
        events |= VIR_EVENT_HANDLE_WRITABLE;
    if (mask & WL_EVENT_HANGUP)
        events |= VIR_EVENT_HANDLE_HANGUP;
    if (mask & WL_EVENT_ERROR)
        events |= VIR_EVENT_HANDLE_ERROR;
    return events;
}

// wl timers take a delay in ms where 0 disarms; "every iteration" becomes the shortest delay.
int timer_delay_ms(int interval_ms) {
    if (interval_ms < 0)
        return 0;
    return interval_ms == 0 ? 1 : interval_ms;
}

int on_fd_ready(int, uint32_t mask, void* data);
int on_timer(void* data);
void on_free_idle(void*);

// Makes the wl_event_loop match the table. Loop thread only, mutex held. Calls no libvirt code.
void sync_locked(EventTable& t) {
    for (auto it = t.fds.begin(); it != t.fds.end();) {
        auto& [id, watch] = *it;
        if (watch.removed) {
            if (watch.free_opaque != nullptr)
                t.pending_frees.push_back({watch.free_opaque, watch.opaque});
            it = t.fds.erase(it); // also removes its wl source
            continue;
        }
        const uint32_t mask = to_wl_mask(watch.events);
        // An fd libvirt does not want polled must leave epoll entirely: epoll always reports
        // hang-ups, which would otherwise spin the loop.
        if (mask == 0 || t.loop == nullptr) {
            watch.source.reset();
        } else if (!watch.source) {
            watch.source.reset(wl_event_loop_add_fd(t.loop, watch.fd, mask, &on_fd_ready, id_to_data(id)));
            watch.applied_mask = mask;
            if (!watch.source)
                log::error("libvirt event bridge: cannot watch fd {}", watch.fd);
        } else if (watch.applied_mask != mask) {
            wl_event_source_fd_update(watch.source.get(), mask);
            watch.applied_mask = mask;
        }
        ++it;
    }
    for (auto it = t.timeouts.begin(); it != t.timeouts.end();) {
        auto& [id, timeout] = *it;
        if (timeout.removed) {
            if (timeout.free_opaque != nullptr)
                t.pending_frees.push_back({timeout.free_opaque, timeout.opaque});
            it = t.timeouts.erase(it);
            continue;
        }
        if (t.loop != nullptr && !timeout.source) {
            timeout.source.reset(wl_event_loop_add_timer(t.loop, &on_timer, id_to_data(id)));
            timeout.needs_arming = true;
            if (!timeout.source)
                log::error("libvirt event bridge: cannot create a timer");
        }
        if (timeout.source && timeout.needs_arming) {
            wl_event_source_timer_update(timeout.source.get(), timer_delay_ms(timeout.interval_ms));
            timeout.needs_arming = false;
        }
        ++it;
    }
    if (!t.pending_frees.empty() && t.loop != nullptr && !t.free_idle)
        t.free_idle.reset(wl_event_loop_add_idle(t.loop, &on_free_idle, nullptr));
}

// After a change by libvirt: apply it now on the loop thread, else wake the loop to apply it.
void apply_locked(EventTable& t) {
    if (t.loop == nullptr)
        return; // recorded; applied when a loop binds
    if (std::this_thread::get_id() == t.loop_thread) {
        sync_locked(t);
    } else if (!t.sync_posted) {
        t.sync_posted = true;
        t.wakeup->post([] {
            EventTable& table_ = table();
            std::lock_guard lock{table_.mutex};
            table_.sync_posted = false;
            sync_locked(table_);
        });
    }
}

int on_fd_ready(int, uint32_t mask, void* data) {
    const int id = data_to_id(data);
    virEventHandleCallback callback = nullptr;
    void* opaque = nullptr;
    int fd = -1;
    {
        EventTable& t = table();
        std::lock_guard lock{t.mutex};
        auto it = t.fds.find(id);
        if (it == t.fds.end() || it->second.removed)
            return 0;
        callback = it->second.callback;
        opaque = it->second.opaque;
        fd = it->second.fd; // libvirt's fd; wayland watches a dup of it
    }
    callback(id, fd, to_libvirt_events(mask), opaque);
    return 0;
}

int on_timer(void* data) {
    const int id = data_to_id(data);
    virEventTimeoutCallback callback = nullptr;
    void* opaque = nullptr;
    {
        EventTable& t = table();
        std::lock_guard lock{t.mutex};
        auto it = t.timeouts.find(id);
        if (it == t.timeouts.end() || it->second.removed || it->second.interval_ms < 0)
            return 0;
        // Periodic: re-arm before the callback so an update inside it takes precedence.
        wl_event_source_timer_update(it->second.source.get(), timer_delay_ms(it->second.interval_ms));
        callback = it->second.callback;
        opaque = it->second.opaque;
    }
    callback(id, opaque);
    return 0;
}

void on_free_idle(void*) {
    std::vector<PendingFree> frees;
    {
        EventTable& t = table();
        std::lock_guard lock{t.mutex};
        (void)t.free_idle.release(); // wayland removes an idle source after dispatching it
        frees.swap(t.pending_frees);
    }
    for (const auto& pending : frees)
        pending.free_opaque(pending.opaque);
}

int add_handle(int fd, int events, virEventHandleCallback callback, void* opaque, virFreeCallback free_opaque) {
    EventTable& t = table();
    std::lock_guard lock{t.mutex};
    const int id = t.next_fd_id++;
    t.fds.emplace(id, WatchedFd{fd, events, callback, opaque, free_opaque});
    apply_locked(t);
    return id;
}

void update_handle(int id, int events) {
    EventTable& t = table();
    std::lock_guard lock{t.mutex};
    auto it = t.fds.find(id);
    if (it == t.fds.end() || it->second.removed)
        return;
    it->second.events = events;
    apply_locked(t);
}

int remove_handle(int id) {
    EventTable& t = table();
    std::lock_guard lock{t.mutex};
    auto it = t.fds.find(id);
    if (it == t.fds.end() || it->second.removed)
        return -1;
    it->second.removed = true; // its callback is never called again; freed from an idle
    apply_locked(t);
    return 0;
}

int add_timeout(int interval_ms, virEventTimeoutCallback callback, void* opaque, virFreeCallback free_opaque) {
    EventTable& t = table();
    std::lock_guard lock{t.mutex};
    const int id = t.next_timeout_id++;
    t.timeouts.emplace(id, Timeout{interval_ms, callback, opaque, free_opaque});
    apply_locked(t);
    return id;
}

void update_timeout(int id, int interval_ms) {
    EventTable& t = table();
    std::lock_guard lock{t.mutex};
    auto it = t.timeouts.find(id);
    if (it == t.timeouts.end() || it->second.removed)
        return;
    it->second.interval_ms = interval_ms;
    it->second.needs_arming = true;
    apply_locked(t);
}

int remove_timeout(int id) {
    EventTable& t = table();
    std::lock_guard lock{t.mutex};
    auto it = t.timeouts.find(id);
    if (it == t.timeouts.end() || it->second.removed)
        return -1;
    it->second.removed = true;
    apply_locked(t);
    return 0;
}

void log_libvirt_error(void*, virErrorPtr error) {
    if (error != nullptr && error->message != nullptr)
        log::debug("libvirt: {}", error->message);
}

void register_with_libvirt() {
    virInitialize();
    virSetErrorFunc(nullptr, &log_libvirt_error);
    virEventRegisterImpl(&add_handle, &update_handle, &remove_handle, &add_timeout, &update_timeout,
                         &remove_timeout);
}

} // namespace

std::shared_ptr<LibvirtEventBridge> LibvirtEventBridge::attach(wl_event_loop* loop) {
    EventTable& t = table();
    std::call_once(t.registered, &register_with_libvirt);
    std::lock_guard lock{t.attach_mutex};
    if (auto existing = t.shared_bridge.lock()) {
        if (existing->loop() != loop)
            throw std::logic_error("libvirt events are already served by another wl_event_loop");
        return existing;
    }
    auto bridge = std::make_shared<LibvirtEventBridge>(Passkey{}, loop);
    t.shared_bridge = bridge;
    return bridge;
}

LibvirtEventBridge::LibvirtEventBridge(Passkey, wl_event_loop* loop) : loop_(loop) {
    auto wakeup = std::make_unique<LoopMailbox>(loop);
    EventTable& t = table();
    std::lock_guard lock{t.mutex};
    t.bridge = this;
    t.loop = loop;
    t.loop_thread = std::this_thread::get_id();
    t.wakeup = std::move(wakeup);
    t.sync_posted = false;
    for (auto& [id, timeout] : t.timeouts)
        timeout.needs_arming = true;
    sync_locked(t); // adopt whatever libvirt registered before or under a previous loop
}

LibvirtEventBridge::~LibvirtEventBridge() {
    std::vector<PendingFree> frees;
    std::unique_ptr<LoopMailbox> wakeup;
    {
        EventTable& t = table();
        std::lock_guard lock{t.mutex};
        if (t.bridge != this)
            return;
        t.loop = nullptr;
        sync_locked(t); // drops every wl source and collects what libvirt removed
        for (auto& [id, timeout] : t.timeouts)
            timeout.source.reset();
        if (!t.fds.empty() || !t.timeouts.empty())
            log::debug("libvirt event bridge: unbinding with {} fds and {} timeouts still registered",
                       t.fds.size(), t.timeouts.size());
        t.free_idle.reset();
        frees.swap(t.pending_frees);
        wakeup = std::move(t.wakeup);
        t.bridge = nullptr;
    }
    // Outside libvirt's remove calls and without our lock, as libvirt requires.
    for (const auto& pending : frees)
        pending.free_opaque(pending.opaque);
}

} // namespace phyllome::guestview
