// Which virtual hardware a new guest gets: the best defaults for its operating system (from
// libosinfo, os_info.hpp) on what this host offers. Pure decisions, no libvirt calls: the XML
// is written by domain_model.cpp, the host is probed by guest_creation.cpp.
#pragma once

#include <string>
#include <vector>

#include "guestview/os_info.hpp"

namespace phyllome::guestview {

// How the guest reaches the network.
enum class GuestNetwork {
    LibvirtDefault, // <interface type='network'><source network='default'/>: qemu:///system
    User,           // <interface type='user'>: QEMU's own NAT, for embedded and session drivers
};

// What the host offers; found out when a guest is made.
struct ModelHost {
    GuestNetwork network = GuestNetwork::User;
    bool kvm = true;          // <domain type='kvm'>, else 'qemu' (TCG)
    bool tpm = true;          // libvirt can run swtpm (its domain capabilities list the emulator)
    bool secure_boot = true;  // a Secure Boot firmware with Microsoft's keys enrolled (OVMF .ms)
    std::string virtio_win;   // the virtio-win driver ISO, when one was found
    std::vector<std::string> virtio_win_searched; // where it was looked for, for the user
    int host_memory_mb = 0;   // 0: unknown
    bool secrets = true;      // the connection keeps secrets, so a disk can be LUKS-encrypted
    int free_disk_gb = -1;    // in the new disk's folder; -1: unknown
};

enum class DiskBus { Virtio, Sata };
enum class NicModel { Virtio, E1000e };

struct MachineModel {
    bool uefi = true;
    bool secure_boot = false;     // with Microsoft's keys enrolled; needs SMM
    bool tpm = false;             // TPM 2.0 (CRB) emulated by swtpm
    bool hyperv = false;          // Hyper-V enlightenments and clock: Windows under KVM
    bool localtime_clock = false; // Windows keeps the hardware clock in local time
    DiskBus disk_bus = DiskBus::Virtio;
    NicModel nic = NicModel::Virtio;
    bool virtio_input = true;     // virtio tablet and keyboard beside the USB tablet firmware needs
    bool vdagent = false;         // qemu-vdagent channel: clipboard with spice-vdagent in the guest
    std::string drivers_iso;      // a second CD-ROM with drivers (virtio-win)
    std::vector<std::string> notes; // what the user should know about the choice
    std::string problem;          // why no guest of this OS can be made on this host, or empty
};

MachineModel choose_model(const OsProfile& os, const ModelHost& host);

// The memory, CPUs and disk a new guest of `os` gets when the user does not say: libosinfo's
// recommendation, at least its minimum, and our own defaults where the database says nothing.
// Memory stays within half the host's (when known) but never under the OS's minimum.
OsResources default_resources(const OsProfile& os, const ModelHost& host);

// "Microsoft Windows 11" or "unknown system"; for messages.
std::string os_display_name(const OsProfile& os);

} // namespace phyllome::guestview
