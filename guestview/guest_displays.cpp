#include "guestview/guest_displays.hpp"

#include <algorithm>
#include <optional>
#include <set>
#include <utility>

#include <wayland-server-core.h>

#include "config/log.hpp"
#include "guestview/display/head_order.hpp"
#include "guestview/guest_inventory.hpp"
#include "guestview/owned_fd.hpp"

namespace phyllome::guestview {
namespace {

using namespace std::chrono_literals;

constexpr std::chrono::milliseconds first_retry_delay = 1s;
constexpr std::chrono::milliseconds max_retry_delay = 30s;

// QEMU is up in these states, so its display can be (and stay) attached; a paused guest still
// shows its last screen.
bool qemu_runs(GuestState state) {
    return state == GuestState::Running || state == GuestState::Paused || state == GuestState::ShuttingDown ||
           state == GuestState::Suspended;
}

bool wanted(const GuestInfo* guest) {
    return guest != nullptr && guest->graphics == GraphicsSupport::DbusP2P && guest->dbus_graphics_index >= 0 &&
           qemu_runs(guest->state);
}

} // namespace

std::string_view to_string(DisplayState state) {
    switch (state) {
    case DisplayState::None: return "none";
    case DisplayState::Connecting: return "connecting";
    case DisplayState::Connected: return "connected";
    case DisplayState::Error: return "error";
    }
    return "unknown";
}

struct GuestDisplays::Display {
    GuestDisplays* owner = nullptr;
    std::string name;
    bool manual = false;
    std::string address;     // manual only
    int graphics_index = -1; // libvirt only
    int domain_id = -1;      // libvirt only: the QEMU process the last attempt was for
    DisplayStatus status;
    std::chrono::milliseconds next_delay = first_retry_delay;
    EventSourcePtr retry_timer;

    // The attempt whose results and callbacks count; 0 when none does.
    std::uint64_t attempt = 0;
    bool opening = false; // open_graphics in flight
    std::unique_ptr<DisplayConnection> connection;
    bool ready = false;
    bool attached = false;
    std::chrono::steady_clock::time_point attached_at;
    std::set<std::uint32_t> described; // consoles whose properties have been read
    // Cursor and pointer seen before attached: QEMU sends them once, so they are replayed.
    std::map<std::uint32_t, CursorShape> early_cursor;
    std::map<std::uint32_t, PointerPosition> early_pointer;
};

GuestDisplays::GuestDisplays(wl_event_loop* loop, GuestInventory& inventory, Events events)
    : loop_(loop), inventory_(inventory), events_(std::move(events)) {}

GuestDisplays::~GuestDisplays() = default;

void GuestDisplays::sync() {
    // Without libvirt we know nothing new; QEMU may well still run (libvirtd restarting), and a
    // display whose QEMU exits closes by itself.
    if (inventory_.status().state != ConnectionState::Connected)
        return;
    std::vector<std::pair<std::string, std::string>> leaving; // name, reason
    for (const auto& [name, display] : displays_) {
        if (display->manual)
            continue;
        const GuestInfo* guest = inventory_.find(name);
        if (wanted(guest))
            continue;
        if (guest == nullptr)
            leaving.emplace_back(name, "guest removed");
        else if (guest->graphics != GraphicsSupport::DbusP2P)
            leaving.emplace_back(name, "no D-Bus p2p graphics any more");
        else
            leaving.emplace_back(name, guest->state_reason);
    }
    // Events of earlier removals may have changed the map (they may call us): look names up again.
    for (const auto& [name, reason] : leaving)
        remove(name, reason);

    for (const GuestInfo& guest : inventory_.guests()) {
        if (!wanted(&guest))
            continue;
        if (auto it = displays_.find(guest.name); it != displays_.end()) {
            // Its QEMU died and a new one runs (libvirt may never have shown it stopped): try the
            // new one now rather than after a backoff that grows with every death.
            Display& known = *it->second;
            if (!known.manual && known.status.state == DisplayState::Error && !known.opening &&
                !known.connection && guest.domain_id != known.domain_id) {
                known.next_delay = first_retry_delay;
                if (known.retry_timer)
                    wl_event_source_timer_update(known.retry_timer.get(), 0);
                known.graphics_index = guest.dbus_graphics_index;
                start_attempt(known);
            }
            continue;
        }
        auto display = std::make_unique<Display>();
        display->owner = this;
        display->name = guest.name;
        display->graphics_index = guest.dbus_graphics_index;
        Display& added = *display;
        displays_.emplace(guest.name, std::move(display));
        start_attempt(added);
    }
}

void GuestDisplays::add_manual(std::string name, std::string address) {
    remove(name, "replaced by a manual display");
    auto display = std::make_unique<Display>();
    display->owner = this;
    display->name = name;
    display->manual = true;
    display->address = std::move(address);
    Display& added = *display;
    displays_.insert_or_assign(std::move(name), std::move(display));
    start_attempt(added);
}

DisplayConnection* GuestDisplays::connection(std::string_view guest) {
    auto it = displays_.find(guest);
    return it != displays_.end() && it->second->attached ? it->second->connection.get() : nullptr;
}

DisplayStatus GuestDisplays::status(std::string_view guest) const {
    auto it = displays_.find(guest);
    return it == displays_.end() ? DisplayStatus{} : it->second->status;
}

std::vector<std::string> GuestDisplays::guests_with_display() const {
    std::vector<std::string> names;
    for (const auto& [name, display] : displays_)
        if (display->attached)
            names.push_back(name);
    return names;
}

std::vector<std::uint32_t> GuestDisplays::graphic_consoles(std::string_view guest) const {
    auto it = displays_.find(guest);
    if (it == displays_.end() || !it->second->attached)
        return {};
    const DisplayConnection& connection = *it->second->connection;
    std::vector<ConsoleInfo> consoles;
    for (std::uint32_t id : connection.vm().console_ids)
        if (const ConsoleInfo* info = connection.console(id))
            consoles.push_back(*info);
    return order_heads(consoles);
}

std::vector<ManualDisplay> GuestDisplays::manual() const {
    std::vector<ManualDisplay> list;
    for (const auto& [name, display] : displays_)
        if (display->manual)
            list.push_back({name, display->address, display->status});
    return list;
}

void GuestDisplays::start_attempt(Display& display) {
    const std::uint64_t attempt = next_attempt_++;
    display.attempt = attempt;
    display.status = {DisplayState::Connecting, display.status.error, {}};
    display.ready = false;
    display.attached = false;
    display.described.clear();
    display.early_cursor.clear();
    display.early_pointer.clear();
    if (display.manual) {
        std::string error;
        auto connection = DisplayConnection::connect(loop_, display.address, display.name,
                                                     callbacks_for(display.name, attempt), error);
        adopt(display, std::move(connection), std::move(error));
        return;
    }
    display.opening = true;
    if (const GuestInfo* guest = inventory_.find(display.name))
        display.domain_id = guest->domain_id;
    // The Inventory outlives us but may still answer after we are gone.
    std::weak_ptr<GuestDisplays*> alive = alive_;
    inventory_.open_graphics(display.name, display.graphics_index,
                             [alive, name = display.name, attempt](int fd, std::string error) {
                                 OwnedFd socket{fd};
                                 if (auto self = alive.lock())
                                     (*self)->opened(name, attempt, socket.release(), std::move(error));
                             });
}

void GuestDisplays::opened(const std::string& name, std::uint64_t attempt, int fd, std::string error) {
    OwnedFd socket{fd};
    auto it = displays_.find(name);
    if (it == displays_.end() || it->second->attempt != attempt || !it->second->opening)
        return; // no longer wanted: the socket closes here
    Display& display = *it->second;
    display.opening = false;
    if (socket.get() < 0) {
        // This attempt was for a QEMU that died; a new one already runs: try that one now.
        const GuestInfo* guest = inventory_.find(name);
        if (wanted(guest) && guest->domain_id != display.domain_id) {
            display.graphics_index = guest->dbus_graphics_index;
            return start_attempt(display);
        }
        return fail(display, std::move(error));
    }
    auto connection = DisplayConnection::from_fd(loop_, socket.release(), name, callbacks_for(name, attempt), error);
    adopt(display, std::move(connection), std::move(error));
}

void GuestDisplays::adopt(Display& display, std::unique_ptr<DisplayConnection> connection, std::string error) {
    if (!connection)
        return fail(display, std::move(error));
    display.connection = std::move(connection);
    log::debug("guest '{}': display socket open, reading the VM", display.name);
}

GuestDisplays::Display* GuestDisplays::current(const std::string& name, std::uint64_t attempt) {
    auto it = displays_.find(name);
    if (it == displays_.end() || it->second->attempt != attempt || !it->second->connection)
        return nullptr;
    return it->second.get();
}

DisplayCallbacks GuestDisplays::callbacks_for(const std::string& name, std::uint64_t attempt) {
    // Callbacks of a connection we dropped (waiting in the graveyard) find no current attempt.
    return DisplayCallbacks{
        [this, name, attempt](const VmInfo&) {
            if (Display* display = current(name, attempt)) {
                display->ready = true;
                maybe_attach(*display);
            }
        },
        [this, name, attempt](const ConsoleInfo& info) {
            if (Display* display = current(name, attempt))
                on_console_changed(*display, info);
        },
        [this, name, attempt](std::uint32_t console, const FrameEvent& event) {
            // Before attached the frame is kept by the connection and replayed from there.
            if (Display* display = current(name, attempt); display && display->attached && events_.frame)
                events_.frame(name, console, event);
        },
        [this, name, attempt](std::uint32_t console) {
            if (Display* display = current(name, attempt); display && display->attached && events_.display_off)
                events_.display_off(name, console);
        },
        [this, name, attempt](std::uint32_t console, const CursorShape& shape) {
            Display* display = current(name, attempt);
            if (display && !display->attached)
                display->early_cursor[console] = shape;
            else if (display && events_.cursor)
                events_.cursor(name, console, shape);
        },
        [this, name, attempt](std::uint32_t console, const PointerPosition& position) {
            Display* display = current(name, attempt);
            if (display && !display->attached)
                display->early_pointer[console] = position;
            else if (display && events_.pointer)
                events_.pointer(name, console, position);
        },
        [this, name, attempt](const Disconnect& event) {
            if (Display* display = current(name, attempt))
                on_disconnected(*display, event);
        },
    };
}

void GuestDisplays::on_console_changed(Display& display, const ConsoleInfo& info) {
    if (display.attached) {
        if (events_.console_changed)
            events_.console_changed(display.name, info);
        return;
    }
    display.described.insert(info.id);
    maybe_attach(display);
}

void GuestDisplays::maybe_attach(Display& display) {
    if (display.attached || !display.ready)
        return;
    const DisplayConnection& connection = *display.connection;
    for (std::uint32_t id : connection.vm().console_ids)
        if (!display.described.contains(id))
            return; // attached promises known consoles
    display.attached = true;
    display.attached_at = std::chrono::steady_clock::now();
    display.status = {DisplayState::Connected, {}, {}};
    log::info("guest '{}': display attached ({} console(s))", display.name, connection.vm().console_ids.size());

    // Copies: every event below may call back into us and drop this display.
    const std::string name = display.name;
    const std::uint64_t attempt = display.attempt;
    const std::vector<std::uint32_t> ids = connection.vm().console_ids;
    auto cursors = std::exchange(display.early_cursor, {});
    auto pointers = std::exchange(display.early_pointer, {});
    if (events_.attached)
        events_.attached(name);
    for (std::uint32_t id : ids) {
        Display* live = current(name, attempt);
        const ConsoleInfo* info = live ? live->connection->console(id) : nullptr;
        if (info == nullptr)
            continue;
        const ConsoleInfo info_copy = *info;
        std::shared_ptr<const Frame> frame = live->connection->current_frame(id);
        if (events_.console_changed)
            events_.console_changed(name, info_copy);
        if (frame && events_.frame && current(name, attempt)) {
            const Rect whole{0, 0, static_cast<std::int32_t>(frame->width()), static_cast<std::int32_t>(frame->height())};
            events_.frame(name, id, FrameEvent{frame, true, whole, 0, nullptr});
        }
        if (auto it = cursors.find(id); it != cursors.end() && events_.cursor && current(name, attempt))
            events_.cursor(name, id, it->second);
        if (auto it = pointers.find(id); it != pointers.end() && events_.pointer && current(name, attempt))
            events_.pointer(name, id, it->second);
    }
}

void GuestDisplays::on_disconnected(Display& display, const Disconnect& event) {
    if (!event.display_gone) {
        if (event.console)
            return; // one console's listener went; the others still show
        // QEMU dropped our main connection (another client attached) but listeners survive:
        // frames still come, input does not. Before attached that leaves us half set up: start over.
        if (display.attached) {
            display.status.error = "input connection closed: " + event.reason + " (frames still arrive)";
            return;
        }
    }
    const std::string reason = "display closed: " + event.reason;
    if (display.attached && std::chrono::steady_clock::now() - display.attached_at >= max_retry_delay)
        display.next_delay = first_retry_delay; // it had been working: no reason to wait long
    const bool was_attached = display.attached;
    const std::string name = display.name;
    drop_connection(display, reason);
    fail(display, reason);
    // Last: the handler may sync() and remove this display.
    if (was_attached && events_.detached)
        events_.detached(name, reason);
}

void GuestDisplays::fail(Display& display, std::string error) {
    display.status = {DisplayState::Error, std::move(error), display.next_delay};
    if (!display.retry_timer)
        display.retry_timer.reset(wl_event_loop_add_timer(loop_, &on_retry, &display));
    wl_event_source_timer_update(display.retry_timer.get(), static_cast<int>(display.next_delay.count()));
    display.next_delay = std::min(display.next_delay * 2, max_retry_delay);
    log::warn("guest '{}': no display: {} (retrying in {} ms)", display.name, display.status.error,
              display.status.retry_in.count());
}

// Forgets the current attempt; no event.
void GuestDisplays::drop_connection(Display& display, const std::string& reason) {
    if (display.attached)
        log::info("guest '{}': display detached: {}", display.name, reason);
    display.attempt = 0;
    display.opening = false;
    display.ready = false;
    display.attached = false;
    bury(std::move(display.connection));
}

void GuestDisplays::remove(const std::string& name, const std::string& reason) {
    auto it = displays_.find(name);
    if (it == displays_.end())
        return;
    const bool was_attached = it->second->attached;
    drop_connection(*it->second, reason);
    displays_.erase(it);
    if (was_attached && events_.detached)
        events_.detached(name, reason);
}

void GuestDisplays::bury(std::unique_ptr<DisplayConnection> connection) {
    if (!connection)
        return;
    graveyard_.push_back(std::move(connection));
    if (!bury_idle_)
        bury_idle_.reset(wl_event_loop_add_idle(loop_, &on_bury, this));
}

int GuestDisplays::on_retry(void* data) {
    auto* display = static_cast<Display*>(data);
    GuestDisplays* self = display->owner;
    if (display->manual) {
        self->start_attempt(*display);
        return 0;
    }
    if (self->inventory_.status().state != ConnectionState::Connected) {
        self->start_attempt(*display); // fails with "not connected" and backs off again
        return 0;
    }
    const GuestInfo* guest = self->inventory_.find(display->name);
    if (!wanted(guest)) {
        // sync() has not caught up yet; it was not attached, so there is nothing to report.
        self->remove(display->name, "not running");
        return 0;
    }
    display->graphics_index = guest->dbus_graphics_index;
    self->start_attempt(*display);
    return 0;
}

void GuestDisplays::on_bury(void* data) {
    auto* self = static_cast<GuestDisplays*>(data);
    (void)self->bury_idle_.release(); // wayland removes an idle source after dispatching it
    auto dead = std::exchange(self->graveyard_, {});
}

} // namespace phyllome::guestview
