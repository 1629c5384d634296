// What the shell knows about libvirt guests, and what it can ask of them: the types and the
// interface that both the in-process libvirt Inventory (inventory.hpp, used by the libvirt agent)
// and the shell's AgentInventory (agent_inventory.hpp, which talks to that agent) implement.
//
// Rules for the owner, whichever implementation:
// - Create, use and destroy it on the thread that dispatches its wl_event_loop, and keep the
//   loop alive until it is gone. Everything (events, retries, results, callbacks) happens inside
//   wl_event_loop_dispatch; nothing else needs pumping.
// - Callbacks never run inside the constructor or inside a request. Do not destroy it from
//   inside one of its callbacks. Once it is destroyed, none of its callbacks runs.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "guestview/domain_model.hpp"
#include "guestview/jobs/guest_job.hpp"
#include "guestview/usb/usb_policy.hpp"

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

// One of a guest's snapshots, for the overlay and `phyllomectl snapshots`.
struct SnapshotEntry {
    std::string name;
    std::int64_t created = 0;  // unix seconds
    bool with_memory = false;  // taken running: a revert brings the guest back running
    bool current = false;      // the one the guest's disks now build on
    bool operator==(const SnapshotEntry&) const = default;
};

// A USB device given to a running guest: a <hostdev mode='subsystem' type='usb'> of its live XML.
struct UsbHostdev {
    std::uint16_t vendor = 0, product = 0;
    int bus = 0, address = 0;
    bool operator==(const UsbHostdev&) const = default;
};

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
    // Its <installer> metadata is there (installer_media.hpp): the ISO is still to be ejected.
    bool installer_attached = false;
    std::vector<SnapshotEntry> snapshots; // newest first
    std::vector<UsbHostdev> usb_devices;      // the live XML's USB hostdevs, while it runs
    std::vector<usb::UsbChoice> usb_choices;  // its <phyllome-usb:usb> metadata (usb_hostdev_xml.hpp): remembered choices
    bool usb_controller = true;               // false when it has no USB controller (model='none', or none at all where libvirt adds none)
    bool operator==(const GuestInfo&) const = default;
};

// Remove: undefines a shut-off guest and deletes the disks the shell made for it with their
// secrets (guest_removal.hpp); refused while it runs. Eject: empties the installer's CD-ROM
// (installer_eject.hpp).
enum class Action { Start, Shutdown, ForceOff, Remove, Eject };
std::string_view to_string(Action); // "start", "shut down", "force off", "remove", "eject the installer"

struct ActionResult {
    Action action;
    std::string guest;
    bool ok = false;
    std::string error; // libvirt's message when !ok
    std::string note;  // when ok, what was done if the action name does not say it all
};

enum class ConnectionState { Connecting, Connected, Failed };

struct ConnectionStatus {
    ConnectionState state = ConnectionState::Connecting;
    std::string uri;
    std::string error;                        // last error when Failed
    std::chrono::milliseconds retry_in{0};   // backoff before the next attempt when Failed
};

// What a new guest would be, for the overlay's new-guest card: worked out (guest_plan.hpp) from
// the installer, the OS libosinfo recognised and this host, before anything is made.
struct PlanView {
    std::string problem;  // non-empty: no guest can be made from it; says why and what to do
    std::string os_name;  // "Microsoft Windows 11", or "unknown system"
    std::string os_id;    // libosinfo's short id; empty when unknown
    int memory_mb = 0, cpus = 0, disk_gb = 0; // the OS's recommendation on this host
    int min_memory_mb = 0, min_disk_gb = 0;   // the OS's minimum; 0 when libosinfo says nothing
    int free_disk_gb = -1;                    // in the disk's folder; -1 when unknown
    std::vector<std::string> features;        // "UEFI with Secure Boot", "TPM 2.0", "encrypted disk"
    std::vector<std::string> notes;           // what the user should know ("the disk is not encrypted: …")
    bool operator==(const PlanView&) const = default;
};

// Long work on a guest (issue 17), run by the libvirt side on a thread of its own with progress.
// `target` is what the kind needs: the new name (Duplicate; Restore and Import: empty for the
// original name), the snapshot's name (empty for Take: one from the date), the directory (Backup),
// the backup's directory (Restore, with `guest` empty), the archive file (Export, Import), the
// destination's libvirt URI (Move).
struct JobRequest {
    JobKind kind = JobKind::Duplicate;
    std::string guest;
    std::string target;
    std::string source;           // Restore: the backup directory; Import: the archive file
    bool include_secrets = false; // Export: the disk's key travels in the archive
    bool operator==(const JobRequest&) const = default;
};

enum class JobState { Running, Cancelling, Done, Failed, Cancelled };
std::string_view to_string(JobState); // "running", "cancelling", "done", "failed", "cancelled"

struct JobInfo {
    std::uint32_t id = 0; // 1, 2, ... per libvirt side; never reused while it runs
    JobRequest request;
    JobState state = JobState::Running;
    std::uint64_t done = 0, total = 0; // bytes; total 0 while unknown
    std::string phase;                 // "copying disk vda", "waiting for libvirt"
    std::string message;               // when finished: the error, or a note (the backup's path)
    std::uint64_t elapsed_ms = 0;      // since it started, until it ended
    bool operator==(const JobInfo&) const = default;
};
bool finished(const JobInfo& job);
// Seconds left at the rate so far, once there is a rate to go by; nullopt before.
std::optional<std::uint64_t> seconds_left(const JobInfo& job);
// The shell's list after the agent sent `update`: the agent's jobs, then the finished ones of an
// agent before it that `update` does not list (they stay as they ended).
std::vector<JobInfo> merge_job_lists(std::vector<JobInfo> update, const std::vector<JobInfo>& known);
// When the agent dies its job threads die with it (what they copied may remain, named after the
// job's target; the original guests were never changed in place): every unfinished job ends
// Failed with `why`. Whether there was one.
bool fail_unfinished_jobs(std::vector<JobInfo>& jobs, const std::string& why);

class GuestInventory {
public:
    struct Callbacks {
        std::function<void()> changed;                        // guests or connection status changed
        std::function<void(const ActionResult&)> action_done; // a request finished
        std::function<void()> jobs_changed;                   // a job started, progressed or ended
    };

    virtual ~GuestInventory() = default;

    // Guests with a slot first, by slot (equal slots by name), then the others by name. The
    // compositor numbers them in this order (Host+1..9), so a slot pins a guest's place.
    virtual const std::vector<GuestInfo>& guests() const = 0;
    const GuestInfo* find(std::string_view name) const {
        auto it = std::ranges::find(guests(), name, &GuestInfo::name);
        return it == guests().end() ? nullptr : &*it;
    }
    virtual const ConnectionStatus& status() const = 0;

    // The result arrives through Callbacks::action_done. Fails at once (through the callback,
    // on a later loop iteration) for an unknown guest or while not connected.
    virtual void request(Action action, std::string guest) = 0;

    // Opens the guest's display socket (virDomainOpenGraphicsFD(idx = graphics_index)). `done`
    // runs on the loop, never inside this call, with the connected fd (ownership passes to
    // `done`) or -1 and the error. If the inventory goes first, `done` never runs.
    virtual void open_graphics(std::string guest, int graphics_index,
                               std::function<void(int fd, std::string error)> done) = 0;

    // The guest's own framebuffer as QEMU sees it (virDomainScreenshot of `screen`); `done` gets
    // the image bytes and their MIME type (QEMU: image/x-portable-pixmap), or an error.
    virtual void screenshot(std::string guest, unsigned screen,
                            std::function<void(std::string image, std::string mime, std::string error)> done) = 0;

    // Replaces the guest's <phyllome:identity> metadata (an unset field is left out; both unset
    // removes the element), in the persistent config (unless the guest is transient) and, while
    // it runs, the live one too. guests() and `changed` reflect it before `done` runs. Error is
    // libvirt's message or ours (unknown guest, slot not 1..99, colour not 0xRRGGBB, not
    // connected) when !ok.
    virtual void set_identity(std::string guest, std::optional<int> slot, std::optional<std::uint32_t> colour,
                              std::function<void(bool ok, std::string error)> done) = 0;

    // Rewrites the guest's persistent definition for the shell's display (see
    // domain_adoption.hpp); it takes effect at the guest's next start. A shut-off guest is
    // DbusP2P in guests() before `done` runs.
    virtual void adopt(std::string guest, std::function<void(bool ok, std::string error)> done) = 0;

    // A new guest from the Phyllome machine model (domain_model.hpp), defined shut off. `done`
    // gets the error when !ok, else a note for the user or an empty string; the guest is in
    // guests() by then. Nothing is left behind on failure.
    virtual void create(GuestSpec spec, std::function<void(bool ok, std::string message)> done) = 0;

    // What create(spec) would make, without making anything: the OS on spec.iso_path (or
    // spec.os_id), the machine model and the sizes left at 0 filled in. `done` runs later on
    // the loop; a spec that cannot be created comes back with `problem` set.
    virtual void plan(GuestSpec spec, std::function<void(PlanView)> done) = 0;

    // Starts long work (JobRequest). `started` runs later on the loop with the job's id, or 0 and
    // why it cannot start (not connected, unknown guest, the guest has a job already). Progress
    // and the end come through jobs() and Callbacks::jobs_changed (at most 5 times a second per
    // job while it runs); finished jobs stay listed (the last 16).
    virtual void start_job(JobRequest request, std::function<void(std::uint32_t id, std::string error)> started) = 0;
    // Asks a running job to stop; it ends Cancelled with nothing left behind (or Done, if it
    // finished first). Unknown or finished ids are ignored.
    virtual void cancel_job(std::uint32_t id) = 0;
    virtual const std::vector<JobInfo>& jobs() const = 0;
    const JobInfo* find_job(std::uint32_t id) const {
        auto it = std::ranges::find(jobs(), id, &JobInfo::id);
        return it == jobs().end() ? nullptr : &*it;
    }

    // Gives a host USB device to the running guest: virDomainAttachDeviceFlags, live only, so it comes back
    // when the guest stops. guests() lists it in usb_devices before `done` runs. On failure nothing changed
    // and `error` says why and what to do, naming the guest and the device.
    virtual void attach_usb(std::string guest, UsbHostdev device, std::function<void(bool ok, std::string error)> done) = 0;
    // Takes it back (live). A device the guest no longer has (unplugged from the host, guest stopped) is ok.
    virtual void detach_usb(std::string guest, UsbHostdev device, std::function<void(bool ok, std::string error)> done) = 0;
    // Replaces the guest's remembered choices: <phyllome-usb:usb> metadata (its own namespace: libvirt keeps one
    // element per namespace), persistent and live, like set_identity. Ids must be like "0781:5581".
    virtual void set_usb_choices(std::string guest, std::vector<usb::UsbChoice> choices,
                                 std::function<void(bool ok, std::string error)> done) = 0;
};

// Whether the guest's screen can only be shown after adopt(): it has graphics, none we can use.
inline bool needs_adoption(const GuestInfo& guest) { return guest.graphics == GraphicsSupport::Unsupported; }


// --libvirt-uri, else the config's libvirt_uri, else qemu:///system when a system libvirt
// socket exists under `run_dir` (/run), else qemu:///embed?root=<state_home>/phyllome/libvirt.
std::string choose_libvirt_uri(std::string_view cli_uri, std::string_view config_uri,
                               std::string_view state_home, std::string_view run_dir = "/run");

// $XDG_STATE_HOME, else $HOME/.local/state.
std::string default_state_home();

} // namespace phyllome::guestview
