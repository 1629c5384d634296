// What a new guest will be, worked out before anything is made: which OS its installer holds
// (libosinfo), what this host offers (KVM, swtpm, Secure Boot firmware, virtio-win drivers, free
// disk), the machine model for both, and the sizes the user left to us. The overlay's new-guest
// card and `phyllomectl create` show it; create_guest then makes exactly this.
#pragma once

#include <string>
#include <vector>

#include "guestview/domain_model.hpp"
#include "guestview/guest_inventory.hpp"
#include "guestview/os_info.hpp"

typedef struct _virConnect* virConnectPtr;

namespace phyllome::guestview {

struct GuestPlan {
    GuestSpec spec; // sizes filled in
    OsProfile os;   // unrecognised (empty id) when neither the ISO nor the user named one
    std::string volume_id;
    MachineModel model;
    ModelHost host;
    std::string problem; // non-empty: no guest can be made from it; says why and what to do
    bool disk_too_big = false; // the only problem is the disk size against the free space

    // One line for the user: "Microsoft Windows 11 (win11): 4096 MB, 2 CPUs, 64 GB disk;
    // UEFI Secure Boot, TPM 2.0; SATA disk and e1000e network: …".
    std::string summary() const;
    // The same for the overlay's card, with whether the disk will be encrypted.
    PlanView view() const;
};

// Where a virtio-win driver ISO is looked for: Fedora's virtio-win package, the installer's own
// folder, the user's downloads and ISO folder, libvirt's image folders.
std::vector<std::string> virtio_win_places(const std::string& installer_iso);

// Blocking (the worker thread only). `network` LibvirtDefault is taken only when the connection
// has a network named 'default', else user-mode networking. `db` may be null (osinfo-db missing): the installer is then
// unknown and the plan says why.
GuestPlan plan_guest(virConnectPtr connection, GuestSpec spec, GuestNetwork network, const OsDatabase* db,
                     const std::string& db_error = {});

} // namespace phyllome::guestview
