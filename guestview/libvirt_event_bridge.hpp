// Drives libvirt's event loop API (virEventRegisterImpl) from a wl_event_loop, so libvirt's
// sockets and timers (lifecycle events, keepalive) are served by the compositor's own loop.
//
// Why this is the one piece of process-wide state in guestview: virEventRegisterImpl takes
// plain function pointers without a user-data pointer and can be called only once per process,
// so libvirt's table of watched fds and timeouts can exist only once per process. That table
// lives in libvirt_event_bridge.cpp. A LibvirtEventBridge object binds the table to one
// wl_event_loop: every Inventory on that loop shares it (shared_ptr), and the last one to go
// unbinds it. A later attach() may bind to a different loop (tests create one loop per test);
// handles libvirt still has registered move to the new loop. Two loops cannot be bound at the
// same time: attach() with a second loop while the first is still bound throws std::logic_error.
//
// Threading: libvirt calls the add/update/remove functions from any thread (for example the
// action worker inside virDomainCreate). Changes are recorded under a mutex and applied to the
// wl_event_loop on its own thread: at once when already there, otherwise through an eventfd
// wake-up. libvirt's callbacks always run on the loop thread, from wl_event_loop_dispatch.
// Free callbacks of removed handles/timeouts run later from an idle source, as libvirt requires.
//
// Also process-wide and done once by the first attach(): libvirt's default error printer is
// replaced by debug logging, since guestview reports errors itself.
#pragma once

#include <memory>

struct wl_event_loop;

namespace phyllome::guestview {

class LibvirtEventBridge {
    struct Passkey {};

public:
    // Must be called on the thread that dispatches `loop`; `loop` must outlive the bridge.
    static std::shared_ptr<LibvirtEventBridge> attach(wl_event_loop* loop);

    LibvirtEventBridge(Passkey, wl_event_loop* loop);
    ~LibvirtEventBridge();
    LibvirtEventBridge(const LibvirtEventBridge&) = delete;
    LibvirtEventBridge& operator=(const LibvirtEventBridge&) = delete;

    wl_event_loop* loop() const { return loop_; }

private:
    wl_event_loop* loop_;
};

} // namespace phyllome::guestview
