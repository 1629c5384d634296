// The list of libvirt guests, kept current by libvirt's lifecycle events, with libvirt in this
// process: the libvirt agent (agent/) runs it; the shell talks to the agent (agent_inventory.hpp).
// Runs on the owner's wl_event_loop; blocking libvirt calls (start, shut down, force off)
// run on a worker thread and report back on the loop.
//
// Rules for the owner:
// - Create, use and destroy an Inventory on the thread that dispatches its wl_event_loop, and
//   keep the loop alive until the Inventory is gone. Everything (libvirt events, retries,
//   action results, callbacks) happens inside wl_event_loop_dispatch; nothing else needs pumping.
// - libvirt's event loop is process-wide (see libvirt_event_bridge.hpp): all Inventories alive
//   at the same time must share one wl_event_loop, else the constructor throws std::logic_error.
//   No other code may call virEventRegisterImpl / virEventRegisterDefaultImpl.
// - Callbacks never run inside the constructor or inside request(). Do not destroy the
//   Inventory from inside one of its callbacks.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "guestview/guest_inventory.hpp"

struct wl_event_loop;
typedef struct _virConnect* virConnectPtr;

namespace phyllome::guestview {

class Inventory final : public GuestInventory {
public:
    // Starts connecting at once; a failure is retried with backoff (1 s doubling to 30 s). For a
    // daemon on this machine (libvirt_socket_directory) the socket's directory is watched too:
    // when the daemon's socket reappears, the next attempt is made within 50 ms.
    // The first attempt happens inside the constructor, so guests() and status() are current
    // when it returns; `changed` then fires once from the loop to announce that first state.
    Inventory(wl_event_loop* loop, std::string uri, Callbacks callbacks);
    ~Inventory() override;
    Inventory(const Inventory&) = delete;
    Inventory& operator=(const Inventory&) = delete;

    // Guests with a slot first, by slot (equal slots by name), then the others by name. The
    // compositor numbers them in this order (Host+1..9), so a slot pins a guest's place.
    const std::vector<GuestInfo>& guests() const override;
    const ConnectionStatus& status() const override;

    // Runs on the worker thread; the result arrives through Callbacks::action_done.
    // Fails at once (through the callback, on the next loop iteration) for an unknown guest
    // or while not connected. Remove looks for the shell's disks in default_disk_dir(uri).
    void request(Action action, std::string guest) override;

    // Opens the guest's display socket with virDomainOpenGraphicsFD(idx = graphics_index) on the
    // worker thread (it talks to QEMU, which must never block the loop). `done` runs on the loop,
    // never inside this call, with the connected fd (ownership passes to `done`) or -1 and
    // libvirt's error. If the Inventory goes first, `done` never runs and the fd is closed.
    void open_graphics(std::string guest, int graphics_index, std::function<void(int fd, std::string error)> done) override;

    // The guest's own framebuffer as QEMU sees it (virDomainScreenshot of `screen`), taken on
    // the worker thread; `done` gets the image bytes and their MIME type (QEMU: image/x-portable-
    // pixmap), or an error. Runs later on the loop, never inside the call.
    void screenshot(std::string guest, unsigned screen,
                    std::function<void(std::string image, std::string mime, std::string error)> done) override;

    // Replaces the guest's <phyllome:identity> metadata (an unset field is left out; both unset
    // removes the element) with virDomainSetMetadata on the worker thread, in the persistent
    // config (unless the guest is transient) and, while it runs, the live one too. Then
    // re-reads the guest, so guests()
    // and `changed` reflect it before `done` runs. `done` runs later on the loop, never inside
    // this call; error is libvirt's message (or ours: unknown guest, slot not 1..99, colour not
    // 0xRRGGBB, not connected) when !ok. If the Inventory goes first, `done` never runs.
    void set_identity(std::string guest, std::optional<int> slot, std::optional<std::uint32_t> colour,
                      std::function<void(bool ok, std::string error)> done) override;

    // Guest adoption: rewrites the guest's persistent definition for the shell's display
    // (adopt_domain_xml: one <graphics type='dbus' p2p='yes'/>, a virtio GPU, no SPICE-only
    // devices) on the worker thread, then re-reads it. It takes effect at the guest's next
    // start. guests() shows the live XML of a running guest, so a running guest stays
    // Unsupported (same note) until it is shut off; a shut-off one becomes DbusP2P before `done`
    // runs. `done` runs later on the loop, never inside this call; error is libvirt's message or
    // ours (unknown guest, transient guest, not connected) when !ok. Not run if the Inventory
    // goes first.
    void adopt(std::string guest, std::function<void(bool ok, std::string error)> done) override;

    // A new guest from the Phyllome machine model (domain_model.hpp). The spec is checked at
    // once (a bad one fails through `done` without touching anything); then, on the worker, the
    // disk is made with qemu-img in spec.disk_dir (encrypted when the connection keeps secrets)
    // and the guest defined, shut off. Network: libvirt's 'default' network where the
    // connection has one (a system daemon), else QEMU's user-mode NAT. spec.secret_uuid is chosen when empty. `done` gets
    // the error when !ok, else a note for the user or an empty string (e.g. "the disk is not
    // encrypted: ..."); the guest is in guests() by then. Runs later on the loop, never inside
    // this call. Nothing is left behind on failure.
    void create(GuestSpec spec, std::function<void(bool ok, std::string message)> done) override;

    // plan_guest on the worker thread (libosinfo reads the ISO; the database loads the first
    // time, ~0.3 s); `done` runs later on the loop. Not connected, or a name in use: a problem.
    void plan(GuestSpec spec, std::function<void(PlanView)> done) override;

    // Each job on a thread of its own (jobs/job_runner.hpp), the operation from
    // jobs/job_operations.hpp; new disks go to default_disk_dir(uri). While a job works on a
    // guest, start, remove and eject are refused for it, and so is a second job.
    void start_job(JobRequest request, std::function<void(std::uint32_t id, std::string error)> started) override;
    void cancel_job(std::uint32_t id) override;
    const std::vector<JobInfo>& jobs() const override;

    // On the worker (inventory_usb.cpp), then the guest is read again. attach_usb checks the live
    // XML first: a device the guest has already is ok, a guest without a USB controller fails
    // without asking libvirt. libvirt's errors become what to do (start it first, it is given to
    // another guest, no longer plugged in, no access to /dev/bus/usb), libvirt's text after.
    void attach_usb(std::string guest, UsbHostdev device, std::function<void(bool ok, std::string error)> done) override;
    void detach_usb(std::string guest, UsbHostdev device, std::function<void(bool ok, std::string error)> done) override;
    void set_usb_choices(std::string guest, std::vector<usb::UsbChoice> choices,
                         std::function<void(bool ok, std::string error)> done) override;

    // The live connection (nullptr unless Connected), for the display client. It is closed on
    // reconnect and destruction: take virConnectRef for a longer-lived reference.
    virConnectPtr connection() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

} // namespace phyllome::guestview
