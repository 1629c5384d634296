// One DisplayConnection per guest whose screen we can show, kept in step with the Inventory,
// so the compositor only consumes frames and never opens, retries or tears down displays.
//
// Libvirt guests (GraphicsSupport::DbusP2P) are attached while QEMU runs, through
// Inventory::open_graphics; manual displays (`--display NAME=unix:path=...`) through
// DisplayConnection::connect. A display that drops while its guest still runs, or that cannot be
// opened, is retried with backoff (1 s doubling to 30 s).
//
// THREADING: the loop thread only, like Inventory and DisplayConnection. Events run inside loop
// dispatch, except `detached` for a display that sync() or add_manual() removes, which fires
// inside that call. Do not destroy GuestDisplays from inside one of its events. Calling sync() or
// add_manual() from an event is fine: connections are always destroyed later, from an idle source.
//
// ORDER per guest: attached, then console_changed for every console and, per console, its
// current frame, cursor and pointer if it has them; then live events; finally detached. Nothing
// is reported for a connection that never got as far as attached. Frames follow
// display_connection.hpp's ownership rules; connection(guest) gives input and current state.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "guestview/display/display_connection.hpp"
#include "guestview/event_source.hpp"

struct wl_event_loop;

namespace phyllome::guestview {

class GuestInventory;

enum class DisplayState {
    None,       // not wanted (guest not running, no D-Bus p2p graphics) or unknown guest
    Connecting, // opening the socket or reading the VM and its consoles
    Connected,  // attached: frames flow
    Error,      // failed or dropped; retried after DisplayStatus::retry_in
};
std::string_view to_string(DisplayState); // "none", "connecting", "connected", "error"

struct DisplayStatus {
    DisplayState state = DisplayState::None;
    // Last failure, e.g. libvirt's error or "display closed: <reason>"; also set while Connected
    // when QEMU dropped our input connection but frames still arrive.
    std::string error;
    std::chrono::milliseconds retry_in{0}; // backoff chosen at the last failure
};

struct ManualDisplay {
    std::string name;
    std::string address;
    DisplayStatus status;
};

class GuestDisplays {
public:
    // All run on the loop thread; `guest` is the libvirt name or the manual display's NAME.
    struct Events {
        std::function<void(const std::string& guest)> attached;
        std::function<void(const std::string& guest, const ConsoleInfo&)> console_changed;
        std::function<void(const std::string& guest, std::uint32_t console, const FrameEvent&)> frame;
        std::function<void(const std::string& guest, std::uint32_t console)> display_off;
        std::function<void(const std::string& guest, std::uint32_t console, const CursorShape&)> cursor;
        std::function<void(const std::string& guest, std::uint32_t console, const PointerPosition&)> pointer;
        // e.g. "display closed: <reason>" (QEMU exited: usually first when a guest stops),
        // "shut off: destroyed", "guest removed", "replaced by a manual display"
        std::function<void(const std::string& guest, const std::string& reason)> detached;
    };

    // `inventory` must outlive this object. Nothing happens until sync() or add_manual().
    GuestDisplays(wl_event_loop* loop, GuestInventory& inventory, Events events);
    ~GuestDisplays();
    GuestDisplays(const GuestDisplays&) = delete;
    GuestDisplays& operator=(const GuestDisplays&) = delete;

    // Call after every Inventory change. Attaches guests whose QEMU runs (running, paused,
    // shutting down, suspended) with D-Bus p2p graphics; detaches the others. Does nothing while
    // the Inventory is not connected: attached displays stay until QEMU closes them.
    void sync();

    // A display QEMU serves at a p2p D-Bus `address` ("unix:path=..."), kept connected with
    // backoff. It hides a libvirt guest of the same name; adding a name again replaces it.
    void add_manual(std::string name, std::string address);

    // nullptr unless attached (state Connected).
    DisplayConnection* connection(std::string_view guest);
    DisplayStatus status(std::string_view guest) const;
    // Attached guests, sorted by name.
    std::vector<std::string> guests_with_display() const;
    // Graphic consoles of an attached guest, its head 0 first (head_order.hpp).
    std::vector<std::uint32_t> graphic_consoles(std::string_view guest) const;
    // Sorted by name.
    std::vector<ManualDisplay> manual() const;

    struct Display; // per guest; guest_displays.cpp

private:
    void start_attempt(Display& display);
    void opened(const std::string& name, std::uint64_t attempt, int fd, std::string error);
    void adopt(Display& display, std::unique_ptr<DisplayConnection> connection, std::string error);
    DisplayCallbacks callbacks_for(const std::string& name, std::uint64_t attempt);
    Display* current(const std::string& name, std::uint64_t attempt);
    void on_console_changed(Display& display, const ConsoleInfo& info);
    void maybe_attach(Display& display);
    void on_disconnected(Display& display, const Disconnect& event);
    void fail(Display& display, std::string error);
    void drop_connection(Display& display, const std::string& reason);
    void remove(const std::string& name, const std::string& reason);
    void bury(std::unique_ptr<DisplayConnection> connection);
    static int on_retry(void* data);
    static void on_bury(void* data);

    wl_event_loop* loop_;
    GuestInventory& inventory_;
    Events events_;
    std::map<std::string, std::unique_ptr<Display>, std::less<>> displays_;
    // Connections waiting for the idle source, as none may die inside its own callbacks.
    std::vector<std::unique_ptr<DisplayConnection>> graveyard_;
    EventSourcePtr bury_idle_;
    std::uint64_t next_attempt_ = 1;
    // Lets a late Inventory::open_graphics answer see that we are gone.
    std::shared_ptr<GuestDisplays*> alive_ = std::make_shared<GuestDisplays*>(this);
};

} // namespace phyllome::guestview
