// The list of libvirt guests, kept current by libvirt's lifecycle events.
// Runs on the compositor's wl_event_loop; blocking libvirt calls (start, shut down, force off)
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

#include "guestview/domain_model.hpp"

struct wl_event_loop;
typedef struct _virConnect* virConnectPtr;

namespace phyllome::guestview {

enum class GuestState { Running, Paused, ShutOff, Crashed, ShuttingDown, Suspended, Unknown };
// "running", "paused", "shut off", "crashed", "shutting down", "suspended", "unknown"
std::string_view to_string(GuestState);

// How the guest's screen can reach us.
enum class GraphicsSupport {
    DbusP2P,     // <graphics type='dbus' p2p='yes'/>: we can show it
    Unsupported, // only SPICE/VNC/non-p2p dbus graphics
    None,        // no graphics device at all
};

// The XML namespace of the shell's own per-guest settings in the domain's <metadata>:
// <phyllome:identity xmlns:phyllome="https://phyllo.me/xmlns/shell/1.0" slot="2" colour="#4f9dde"/>
inline constexpr std::string_view identity_namespace = "https://phyllo.me/xmlns/shell/1.0";

struct GuestInfo {
    std::string name;
    std::string uuid;
    GuestState state = GuestState::Unknown;
    std::string state_reason;    // libvirt's reason, e.g. "crashed: panicked", "shut off: destroyed"
    GraphicsSupport graphics = GraphicsSupport::None;
    int dbus_graphics_index = -1; // idx for virDomainOpenGraphicsFD, -1 when not DbusP2P
    std::string graphics_note;    // why it cannot be shown, e.g. "uses SPICE graphics; needs <graphics type='dbus' p2p='yes'/>"
    // From <phyllome:identity> in the domain's metadata; unset when absent or invalid.
    std::optional<int> slot;            // 1..99: its place in guests(), and Host+slot for 1..9
    std::optional<std::uint32_t> colour; // 0xRRGGBB, written as colour="#rrggbb"
    // libvirt's domain id while QEMU runs, -1 otherwise: a new one means a new QEMU process.
    int domain_id = -1;
    bool operator==(const GuestInfo&) const = default;
};

enum class Action { Start, Shutdown, ForceOff };
std::string_view to_string(Action); // "start", "shut down", "force off"

struct ActionResult {
    Action action;
    std::string guest;
    bool ok = false;
    std::string error; // libvirt's message when !ok
};

enum class ConnectionState { Connecting, Connected, Failed };

struct ConnectionStatus {
    ConnectionState state = ConnectionState::Connecting;
    std::string uri;
    std::string error;                        // last error when Failed
    std::chrono::milliseconds retry_in{0};   // backoff before the next attempt when Failed
};

class Inventory {
public:
    struct Callbacks {
        std::function<void()> changed;                        // guests or connection status changed
        std::function<void(const ActionResult&)> action_done; // a request finished
    };

    // Starts connecting at once; a failure is retried with backoff (1 s doubling to 30 s). For a
    // daemon on this machine (libvirt_socket_directory) the socket's directory is watched too:
    // when the daemon's socket reappears, the next attempt is made within 50 ms.
    // The first attempt happens inside the constructor, so guests() and status() are current
    // when it returns; `changed` then fires once from the loop to announce that first state.
    Inventory(wl_event_loop* loop, std::string uri, Callbacks callbacks);
    ~Inventory();
    Inventory(const Inventory&) = delete;
    Inventory& operator=(const Inventory&) = delete;

    // Guests with a slot first, by slot (equal slots by name), then the others by name. The
    // compositor numbers them in this order (Host+1..9), so a slot pins a guest's place.
    const std::vector<GuestInfo>& guests() const;
    const GuestInfo* find(std::string_view name) const;
    const ConnectionStatus& status() const;

    // Runs on the worker thread; the result arrives through Callbacks::action_done.
    // Fails at once (through the callback, on the next loop iteration) for an unknown guest
    // or while not connected.
    void request(Action action, std::string guest);

    // Opens the guest's display socket with virDomainOpenGraphicsFD(idx = graphics_index) on the
    // worker thread (it talks to QEMU, which must never block the loop). `done` runs on the loop,
    // never inside this call, with the connected fd (ownership passes to `done`) or -1 and
    // libvirt's error. If the Inventory goes first, `done` never runs and the fd is closed.
    void open_graphics(std::string guest, int graphics_index, std::function<void(int fd, std::string error)> done);

    // The guest's own framebuffer as QEMU sees it (virDomainScreenshot of `screen`), taken on
    // the worker thread; `done` gets the image bytes and their MIME type (QEMU: image/x-portable-
    // pixmap), or an error. Runs later on the loop, never inside the call.
    void screenshot(std::string guest, unsigned screen,
                    std::function<void(std::string image, std::string mime, std::string error)> done);

    // Replaces the guest's <phyllome:identity> metadata (an unset field is left out; both unset
    // removes the element) with virDomainSetMetadata on the worker thread, in the persistent
    // config (unless the guest is transient) and, while it runs, the live one too. Then
    // re-reads the guest, so guests()
    // and `changed` reflect it before `done` runs. `done` runs later on the loop, never inside
    // this call; error is libvirt's message (or ours: unknown guest, slot not 1..99, colour not
    // 0xRRGGBB, not connected) when !ok. If the Inventory goes first, `done` never runs.
    void set_identity(std::string guest, std::optional<int> slot, std::optional<std::uint32_t> colour,
                      std::function<void(bool ok, std::string error)> done);

    // Guest adoption: rewrites the guest's persistent definition for the shell's display
    // (adopt_domain_xml: one <graphics type='dbus' p2p='yes'/>, a virtio GPU, no SPICE-only
    // devices) on the worker thread, then re-reads it. It takes effect at the guest's next
    // start. guests() shows the live XML of a running guest, so a running guest stays
    // Unsupported (same note) until it is shut off; a shut-off one becomes DbusP2P before `done`
    // runs. `done` runs later on the loop, never inside this call; error is libvirt's message or
    // ours (unknown guest, transient guest, not connected) when !ok. Not run if the Inventory
    // goes first.
    void adopt(std::string guest, std::function<void(bool ok, std::string error)> done);

    // A new guest from the Phyllome machine model (domain_model.hpp). The spec is checked at
    // once (a bad one fails through `done` without touching anything); then, on the worker, the
    // disk is made with qemu-img in spec.disk_dir (encrypted when the connection keeps secrets)
    // and the guest defined, shut off. Network: libvirt's 'default' network for qemu:///system,
    // QEMU's user-mode NAT for any other URI. spec.secret_uuid is chosen when empty. `done` gets
    // the error when !ok, else a note for the user or an empty string (e.g. "the disk is not
    // encrypted: ..."); the guest is in guests() by then. Runs later on the loop, never inside
    // this call. Nothing is left behind on failure.
    void create(GuestSpec spec, std::function<void(bool ok, std::string message)> done);

    // The live connection (nullptr unless Connected), for the display client. It is closed on
    // reconnect and destruction: take virConnectRef for a longer-lived reference.
    virConnectPtr connection() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// Whether the guest's screen can only be shown after adopt(): it has graphics, none we can use.
bool needs_adoption(const GuestInfo& guest);

// --libvirt-uri, else the config's libvirt_uri, else qemu:///system when a system libvirt
// socket exists under `run_dir` (/run), else qemu:///embed?root=<state_home>/phyllome/libvirt.
std::string choose_libvirt_uri(std::string_view cli_uri, std::string_view config_uri,
                               std::string_view state_home, std::string_view run_dir = "/run");

// $XDG_STATE_HOME, else $HOME/.local/state.
std::string default_state_home();

} // namespace phyllome::guestview
