#include "guestview/machine_model.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace phyllome::guestview {
namespace {

// A desktop the user lives in needs more than an installer's minimum: these floors apply when
// libosinfo recommends less or nothing.
constexpr int desktop_memory_mb = 2048;
constexpr int desktop_cpus = 2;
constexpr int desktop_disk_gb = 20;
constexpr int unknown_memory_mb = 4096;
constexpr int unknown_disk_gb = 32;

std::string searched_list(const std::vector<std::string>& places) {
    std::string out;
    for (const std::string& p : places)
        out += (out.empty() ? "" : ", ") + p;
    return out.empty() ? "nowhere" : out;
}

void windows_model(const OsProfile& os, const ModelHost& host, MachineModel& m) {
    m.localtime_clock = true;
    // Enlightenments make Windows cheap to run under KVM; TCG implements none of them.
    m.hyperv = host.kvm;
    if (!host.virtio_win.empty()) {
        m.drivers_iso = host.virtio_win;
        m.vdagent = true;
        m.notes.push_back(fmt::format("virtio drivers from {} (a second CD-ROM: load them in setup)", host.virtio_win));
    } else {
        // Windows' own drivers: slower than virtio, but setup sees the disk without help.
        m.disk_bus = DiskBus::Sata;
        m.nic = NicModel::E1000e;
        m.virtio_input = false;
        m.notes.push_back(fmt::format("SATA disk and e1000e network: no virtio-win drivers found (looked in {})",
                                      searched_list(host.virtio_win_searched)));
    }
    if (!os.uefi)
        return; // Windows before 8 boots with BIOS and knows no TPM 2.0
    // Windows 11 refuses to install without TPM 2.0 and Secure Boot; 10 and Server use them
    // for BitLocker and Device Guard. A Windows guest without them would be a lesser machine
    // than the user's own, so the host must offer both.
    if (!host.tpm)
        m.problem = fmt::format("{} needs a TPM 2.0, which libvirt emulates with swtpm: install swtpm and "
                                "swtpm-tools (Debian and Fedora)",
                                os.name);
    else if (!host.secure_boot)
        m.problem = fmt::format("{} needs Secure Boot with Microsoft's keys: this host has no such UEFI firmware "
                                "(Debian: ovmf, Fedora: edk2-ovmf)",
                                os.name);
    m.secure_boot = m.tpm = m.problem.empty();
}

} // namespace

MachineModel choose_model(const OsProfile& os, const ModelHost& host) {
    MachineModel m;
    m.uefi = os.uefi;
    switch (os.family) {
    case OsFamily::Windows:
        windows_model(os, host, m);
        break;
    case OsFamily::Linux:
        // Every libosinfo Linux has the virtio drivers; a TPM serves measured boot and
        // systemd-cryptenroll. Secure Boot stays off: many distributions' installers are unsigned.
        m.tpm = host.tpm;
        m.vdagent = true;
        if (!host.tpm)
            m.notes.push_back("no TPM: libvirt cannot run swtpm on this host");
        break;
    case OsFamily::Bsd:
    case OsFamily::Other:
        // Only what the OS is known to drive; the rest is hardware every OS knows.
        m.disk_bus = os.virtio_block ? DiskBus::Virtio : DiskBus::Sata;
        m.nic = os.virtio_net ? NicModel::Virtio : NicModel::E1000e;
        m.virtio_input = os.virtio_input;
        if (!os.recognised())
            m.notes.push_back("unknown system, compatible devices chosen");
        break;
    }
    return m;
}

OsResources default_resources(const OsProfile& os, const ModelHost& host) {
    const bool known = os.recognised();
    OsResources r;
    r.memory_mb = std::max({os.recommended.memory_mb, os.minimum.memory_mb, known ? desktop_memory_mb : unknown_memory_mb});
    if (host.host_memory_mb > 0)
        r.memory_mb = std::max(std::min(r.memory_mb, host.host_memory_mb / 2), os.minimum.memory_mb);
    r.cpus = std::max({os.recommended.cpus, os.minimum.cpus, desktop_cpus});
    r.disk_gb = std::max({os.recommended.disk_gb, os.minimum.disk_gb, known ? desktop_disk_gb : unknown_disk_gb});
    return r;
}

std::string os_display_name(const OsProfile& os) { return os.recognised() ? os.name : "unknown system"; }

} // namespace phyllome::guestview
