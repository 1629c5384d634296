// The Phyllome machine model: what a new guest looks like. q35, UEFI, virtio everywhere (disk,
// net, input, rng, GPU), a USB tablet for an absolute pointer and the D-Bus display the shell
// shows.
#pragma once

#include <string>
#include <string_view>

namespace phyllome::guestview {

struct GuestSpec {
    std::string name;          // [A-Za-z0-9._-], 1..64 characters, not starting with '.' or '-'
    std::string iso_path;      // installer, attached as a SATA CD-ROM; booted first
    int disk_size_gb = 32;
    int memory_mb = 4096;
    int cpus = 2;
    bool accel3d = false;      // virtio-gpu with virgl; needs a render node on the host
    std::string disk_dir;      // where <name>.qcow2 goes
    bool encrypt_disk = true;  // LUKS inside the qcow2, unlocked by a libvirt secret
    std::string secret_uuid;   // that secret; the disk is written encrypted only when set
    bool allow_kvm = true;     // false forces TCG (software emulation), e.g. for tests
};

// How the guest reaches the network.
enum class GuestNetwork {
    LibvirtDefault, // <interface type='network'><source network='default'/>: qemu:///system
    User,           // <interface type='user'>: QEMU's own NAT, for embedded and session drivers
};

// What the host offers; found out by Inventory::create.
struct ModelHost {
    GuestNetwork network = GuestNetwork::User;
    bool kvm = true; // <domain type='kvm'>, else 'qemu' (TCG)
};

// Why `spec` cannot be created (name charset, sizes, ISO missing), or empty when it can.
std::string guest_spec_problem(const GuestSpec& spec);

// disk_dir/name.qcow2
std::string phyllome_disk_path(const GuestSpec& spec);

// The domain XML; `spec` must have passed guest_spec_problem.
std::string phyllome_domain_xml(const GuestSpec& spec, const ModelHost& host = {});

// "LUKS passphrase of NAME's disk (phyllome-shell)": how the shell knows a secret is its own
// (disk_secret.hpp, guest_removal.hpp).
std::string disk_secret_description(std::string_view guest);

// libvirt's secret for the disk's LUKS passphrase, named by the disk it unlocks.
std::string phyllome_disk_secret_xml(const GuestSpec& spec);

} // namespace phyllome::guestview

typedef struct _virConnect* virConnectPtr;

namespace phyllome::guestview {

struct CreateOutcome {
    bool ok = false;
    std::string message; // the error when !ok; otherwise what the user should know, or empty
};

// Blocking (call on the worker thread only): makes the disk and defines the guest.
// The disk is always made with qemu-img in spec.disk_dir, whatever the driver: the embedded
// driver has no storage pools, and libvirt's own dir pools run the same qemu-img. For
// encryption it defines a libvirt secret with a random passphrase (define_disk_secret, which
// also clears the shell's leftover secret of a removed disk); a connection that keeps no
// secrets (the embedded driver, up to libvirt 11.3 at least: see disk_secret.cpp) gets an
// unencrypted disk, and the outcome's message says so. On failure nothing is left behind.
// `secrets`, when set, keeps the secret instead of `connection` (tests: a driver with secrets
// beside one without).
CreateOutcome create_guest(virConnectPtr connection, GuestSpec spec, GuestNetwork network,
                           virConnectPtr secrets = nullptr);

// Where the shell puts new guests' disks for a libvirt URI: /var/lib/libvirt/images for
// qemu:///system, else $XDG_DATA_HOME/phyllome/images (~/.local/share/...).
std::string default_disk_dir(const std::string& uri);

} // namespace phyllome::guestview
