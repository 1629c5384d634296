// A new guest's description (GuestSpec) and its libvirt XML: the machine model machine_model.hpp
// chose for its operating system, the D-Bus display the shell shows, and a LUKS-encrypted disk.
#pragma once

#include <string>
#include <string_view>

#include "guestview/machine_model.hpp"

typedef struct _virConnect* virConnectPtr;

namespace phyllome::guestview {

struct GuestSpec {
    std::string name;          // [A-Za-z0-9._-], 1..64 characters, not starting with '.' or '-'
    std::string iso_path;      // installer, attached as a SATA CD-ROM
    std::string os_id;         // libosinfo short id the user forces; empty: recognise the ISO
    int disk_size_gb = 0;      // 0: what the OS recommends (machine_model.hpp default_resources)
    int memory_mb = 0;         // 0: likewise
    int cpus = 0;              // 0: likewise
    bool accel3d = false;      // virtio-gpu with virgl; needs a render node on the host
    int heads = 1;             // virtio-gpu heads: the host's outputs, 1..max_heads
    std::string disk_dir;      // where <name>.qcow2 goes
    bool encrypt_disk = true;  // LUKS inside the qcow2, unlocked by a libvirt secret
    std::string secret_uuid;   // that secret; the disk is written encrypted only when set
    bool allow_kvm = true;     // false forces TCG (software emulation), e.g. for tests
    bool operator==(const GuestSpec&) const = default;
};

// virtio-gpu's scanouts (VIRTIO_GPU_MAX_SCANOUTS).
inline constexpr int max_heads = 16;

// Why `name` cannot name a new guest (charset, length), or empty when it can.
std::string guest_name_problem(std::string_view name);

// Why `spec` cannot be created (name charset, sizes, ISO missing), or empty when it can.
// Sizes of 0 pass: they are filled in from the OS before the XML is made.
std::string guest_spec_problem(const GuestSpec& spec);

// disk_dir/name.qcow2
std::string phyllome_disk_path(const GuestSpec& spec);

// The domain XML for `spec` (sizes filled in, guest_spec_problem passed) on `model`. `os` goes
// into libosinfo's own metadata element, as virt-install and GNOME Boxes write it.
std::string phyllome_domain_xml(const GuestSpec& spec, const MachineModel& model, const ModelHost& host,
                                const OsProfile& os);

// "LUKS passphrase of NAME's disk (phyllome-shell)": how the shell knows a secret is its own
// (disk_secret.hpp, guest_removal.hpp).
std::string disk_secret_description(std::string_view guest);

// libvirt's secret for the disk's LUKS passphrase, named by the disk it unlocks.
std::string phyllome_disk_secret_xml(const GuestSpec& spec);
// The same for `guest`'s disk at `disk_path` (a restored or duplicated one); `uuid` empty:
// libvirt chooses one.
std::string disk_secret_xml(std::string_view guest, std::string_view disk_path, std::string_view uuid);

} // namespace phyllome::guestview

namespace phyllome::guestview {

struct GuestPlan;

struct CreateOutcome {
    bool ok = false;
    std::string message; // the error when !ok; otherwise the plan's summary and any note
};

// Blocking (call on the worker thread only): makes the disk and defines the guest `plan` (from
// plan_guest) describes; a plan with a problem fails with it. The disk is always made with
// qemu-img in spec.disk_dir, whatever the driver: the embedded driver has no storage pools,
// and libvirt's own dir pools run the same qemu-img. For encryption it defines a libvirt
// secret with a random passphrase (define_disk_secret, which also clears the shell's leftover
// secret of a removed disk); a connection that keeps no secrets (the embedded driver, up to
// libvirt 11.3 at least: see disk_secret.cpp) gets an unencrypted disk, and the outcome's
// message says so. On failure nothing is left behind. `secrets`, when set, keeps the secret
// instead of `connection` (tests: a driver with secrets beside one without).
CreateOutcome create_guest(virConnectPtr connection, const GuestPlan& plan, virConnectPtr secrets = nullptr);

// Where the shell puts new guests' disks for a libvirt URI: /var/lib/libvirt/images for
// qemu:///system, else $XDG_DATA_HOME/phyllome/images (~/.local/share/...).
std::string default_disk_dir(const std::string& uri);

} // namespace phyllome::guestview
