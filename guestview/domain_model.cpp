#include "guestview/domain_model.hpp"

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include <fmt/format.h>

#include "guestview/installer_media.hpp"
#include "guestview/xml_tree.hpp"

namespace phyllome::guestview {
namespace {

// Generous limits that still catch a typo (MB for GB) before it fills a disk.
constexpr int max_disk_gb = 64 * 1024;
constexpr int min_memory_mb = 128;
constexpr int max_memory_mb = 1024 * 1024;
constexpr int max_cpus = 512;
constexpr std::size_t max_name_length = 64;

// Escapes text for an XML attribute or element; paths and names come from the user.
using xml::escape;

bool name_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
           c == '-';
}

// SATA targets: the disk (when SATA) first, then the installer, then the drivers.
constexpr const char* installer_target = "sdb";
constexpr const char* drivers_target = "sdc";

std::string disk_xml(const GuestSpec& spec, const MachineModel& model) {
    std::string encryption;
    if (spec.encrypt_disk && !spec.secret_uuid.empty())
        encryption = fmt::format(R"(
        <encryption format='luks'>
          <secret type='passphrase' uuid='{}'/>
        </encryption>
      )",
                                 escape(spec.secret_uuid));
    const bool sata = model.disk_bus == DiskBus::Sata;
    // discard='unmap': a guest's TRIM gives space back to the host's qcow2. The disk boots
    // first: a blank one falls through to the installer, an installed one never lands in
    // setup again, even before the installer is ejected.
    return fmt::format(R"(    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2' discard='unmap'/>
      <source file='{}'>{}</source>
      <target dev='{}' bus='{}'/>
      <boot order='1'/>
    </disk>
)",
                       escape(phyllome_disk_path(spec)), encryption, sata ? "sda" : "vda", sata ? "sata" : "virtio");
}

std::string cdrom_xml(const std::string& path, const char* target, int boot_order) {
    return fmt::format(R"(    <disk type='file' device='cdrom'>
      <driver name='qemu' type='raw'/>
      <source file='{}'/>
      <target dev='{}' bus='sata'/>
      <readonly/>
{}    </disk>
)",
                       escape(path), target, boot_order > 0 ? fmt::format("      <boot order='{}'/>\n", boot_order) : "");
}

std::string interface_xml(GuestNetwork network, NicModel nic) {
    const char* model = nic == NicModel::Virtio ? "virtio" : "e1000e";
    if (network == GuestNetwork::LibvirtDefault)
        return fmt::format("    <interface type='network'>\n      <source network='default'/>\n      <model type='{}'/>\n"
                           "    </interface>\n",
                           model);
    return fmt::format("    <interface type='user'>\n      <model type='{}'/>\n    </interface>\n", model);
}

// The guest's sound goes to the shell over the display's connection (QEMU's D-Bus audio, which
// the display names): an Intel HDA card, which every OS we install drives without extra drivers.
constexpr const char* sound_xml = "    <sound model='ich9'>\n      <audio id='1'/>\n    </sound>\n"
                                  "    <audio id='1' type='dbus'/>\n";

std::string display_xml(bool accel3d, int heads) {
    // A head per host output: the shell shows head N on output N.
    heads = std::clamp(heads, 1, max_heads);
    // virgl renders on the host's GPU: the GPU needs accel3d, and QEMU then refuses to start
    // unless the display takes GL too.
    if (accel3d)
        return fmt::format("    <graphics type='dbus' p2p='yes'>\n      <gl enable='yes'/>\n      <audio id='1'/>\n"
                           "    </graphics>\n"
                           "    <video>\n      <model type='virtio' heads='{}' primary='yes'>\n"
                           "        <acceleration accel3d='yes'/>\n      </model>\n    </video>\n{}",
                           heads, sound_xml);
    return fmt::format("    <graphics type='dbus' p2p='yes'>\n      <audio id='1'/>\n    </graphics>\n"
                       "    <video>\n      <model type='virtio' heads='{}' primary='yes'/>\n    </video>\n{}",
                       heads, sound_xml);
}

std::string os_xml(const MachineModel& model) {
    if (!model.uefi)
        return "  <os>\n    <type arch='x86_64' machine='q35'>hvm</type>\n  </os>\n";
    // firmware='efi' lets libvirt pick OVMF from /usr/share/qemu/firmware and keep an NVRAM per
    // guest; the features pick the Secure Boot build with Microsoft's keys (OVMF .ms) or the
    // plain one, since Linux and BSD installers are often unsigned.
    const char* on = model.secure_boot ? "yes" : "no";
    return fmt::format(R"(  <os firmware='efi'>
    <type arch='x86_64' machine='q35'>hvm</type>
    <firmware>
      <feature enabled='{0}' name='secure-boot'/>
      <feature enabled='{0}' name='enrolled-keys'/>
    </firmware>
  </os>
)",
                       on);
}

std::string features_xml(const MachineModel& model) {
    std::string out = "  <features>\n    <acpi/>\n    <apic/>\n";
    if (model.hyperv)
        out += R"(    <hyperv mode='custom'>
      <relaxed state='on'/>
      <vapic state='on'/>
      <spinlocks state='on' retries='8191'/>
      <vpindex state='on'/>
      <runtime state='on'/>
      <synic state='on'/>
      <stimer state='on'/>
      <frequencies state='on'/>
      <tlbflush state='on'/>
      <ipi state='on'/>
    </hyperv>
)";
    if (model.secure_boot)
        out += "    <smm state='on'/>\n"; // Secure Boot variables live in SMM-protected flash
    return out + "  </features>\n";
}

std::string clock_xml(const MachineModel& model) {
    if (!model.localtime_clock)
        return "  <clock offset='utc'/>\n";
    return fmt::format(R"(  <clock offset='localtime'>
    <timer name='rtc' tickpolicy='catchup'/>
    <timer name='pit' tickpolicy='delay'/>
    <timer name='hpet' present='no'/>
{}  </clock>
)",
                       model.hyperv ? "    <timer name='hypervclock' present='yes'/>\n" : "");
}

std::string extra_devices_xml(const MachineModel& model) {
    std::string out;
    if (model.virtio_input)
        out += "    <input type='tablet' bus='virtio'/>\n    <input type='keyboard' bus='virtio'/>\n";
    if (model.tpm)
        out += "    <tpm model='tpm-crb'>\n      <backend type='emulator' version='2.0'/>\n    </tpm>\n";
    if (model.vdagent)
        out += R"(    <channel type='qemu-vdagent'>
      <source>
        <clipboard copypaste='yes'/>
        <mouse mode='client'/>
      </source>
      <target type='virtio' name='com.redhat.spice.0'/>
    </channel>
)";
    return out;
}

// libosinfo's element as virt-install and GNOME Boxes write it, and ours for the installer's
// eject (installer_media.hpp).
std::string metadata_xml(const OsProfile& os) {
    std::string libosinfo;
    if (!os.uri.empty())
        libosinfo = fmt::format(R"(    <libosinfo:libosinfo xmlns:libosinfo='http://libosinfo.org/xmlns/libvirt/domain/1.0'>
      <libosinfo:os id='{}'/>
    </libosinfo:libosinfo>
)",
                                escape(os.uri));
    return fmt::format("  <metadata>\n{}    {}\n  </metadata>\n", libosinfo,
                       installer_element(os.installer_reboots, installer_target));
}

} // namespace

std::string guest_name_problem(std::string_view name) {
    // libvirt takes almost any name, but it becomes a file name (disk, NVRAM, logs) and a
    // phyllomectl argument: keep it to a portable set.
    if (name.empty() || name.size() > max_name_length)
        return fmt::format("the name must have 1 to {} characters", max_name_length);
    if (!std::ranges::all_of(name, name_char) || name.front() == '.' || name.front() == '-')
        return fmt::format("the name '{}' may only use letters, digits, '.', '_' and '-', and not start with '.' or '-'",
                           name);
    return {};
}

std::string guest_spec_problem(const GuestSpec& spec) {
    if (std::string problem = guest_name_problem(spec.name); !problem.empty())
        return problem;
    if (spec.disk_size_gb < 0 || spec.disk_size_gb > max_disk_gb)
        return fmt::format("the disk size must be 1 to {} GB, not {}", max_disk_gb, spec.disk_size_gb);
    if (spec.memory_mb != 0 && (spec.memory_mb < min_memory_mb || spec.memory_mb > max_memory_mb))
        return fmt::format("the memory must be {} to {} MB, not {}", min_memory_mb, max_memory_mb, spec.memory_mb);
    if (spec.heads < 1 || spec.heads > max_heads)
        return fmt::format("the head count must be 1 to {}, not {}", max_heads, spec.heads);
    if (spec.cpus < 0 || spec.cpus > max_cpus)
        return fmt::format("the CPU count must be 1 to {}, not {}", max_cpus, spec.cpus);
    std::error_code ec;
    if (spec.iso_path.empty())
        return "no installer ISO given";
    if (!std::filesystem::path(spec.iso_path).is_absolute())
        return fmt::format("the ISO path '{}' must be absolute: libvirt opens it from elsewhere", spec.iso_path);
    if (!std::filesystem::is_regular_file(spec.iso_path, ec))
        return fmt::format("the ISO '{}' does not exist or is not a file", spec.iso_path);
    if (spec.disk_dir.empty() || !std::filesystem::path(spec.disk_dir).is_absolute())
        return "the disk directory must be an absolute path";
    if (!std::filesystem::is_directory(spec.disk_dir, ec))
        return fmt::format("the disk directory '{}' does not exist", spec.disk_dir);
    if (std::filesystem::exists(phyllome_disk_path(spec), ec))
        return fmt::format("'{}' exists already; it is never overwritten", phyllome_disk_path(spec));
    return {};
}

std::string phyllome_disk_path(const GuestSpec& spec) {
    return (std::filesystem::path(spec.disk_dir) / (spec.name + ".qcow2")).string();
}

std::string default_disk_dir(const std::string& uri) {
    // Next to the system's own images for the system libvirt; the user's data otherwise.
    if (uri.starts_with("qemu:///system"))
        return "/var/lib/libvirt/images";
    const char* data = std::getenv("XDG_DATA_HOME");
    const char* home = std::getenv("HOME");
    const std::string base = data && *data == '/' ? data : std::string(home ? home : "/tmp") + "/.local/share";
    return base + "/phyllome/images";
}

std::string phyllome_domain_xml(const GuestSpec& spec, const MachineModel& model, const ModelHost& host,
                                const OsProfile& os) {
    std::string drivers;
    if (!model.drivers_iso.empty())
        drivers = cdrom_xml(model.drivers_iso, drivers_target, 0);
    // A USB tablet always: the firmware and installers that drive no virtio input need it.
    return fmt::format(R"(<domain type='{kind}'>
  <name>{name}</name>
{metadata}  <memory unit='MiB'>{memory}</memory>
  <vcpu>{cpus}</vcpu>
{os}{features}{cpu}{clock}  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
{disk}{installer}{drivers}{net}    <controller type='usb' model='qemu-xhci'/>
    <input type='tablet' bus='usb'/>
{extra}{display}    <rng model='virtio'>
      <backend model='random'>/dev/urandom</backend>
    </rng>
    <memballoon model='virtio'/>
  </devices>
</domain>
)",
                       fmt::arg("kind", host.kvm ? "kvm" : "qemu"), fmt::arg("name", escape(spec.name)),
                       fmt::arg("metadata", metadata_xml(os)), fmt::arg("memory", spec.memory_mb),
                       fmt::arg("cpus", spec.cpus), fmt::arg("os", os_xml(model)), fmt::arg("features", features_xml(model)),
                       // TCG cannot pass the host's CPU through; its default model is fine.
                       fmt::arg("cpu", host.kvm ? "  <cpu mode='host-passthrough'/>\n" : ""),
                       fmt::arg("clock", clock_xml(model)), fmt::arg("disk", disk_xml(spec, model)),
                       fmt::arg("installer", cdrom_xml(spec.iso_path, installer_target, 2)), fmt::arg("drivers", drivers),
                       fmt::arg("net", interface_xml(host.network, model.nic)), fmt::arg("extra", extra_devices_xml(model)),
                       fmt::arg("display", display_xml(spec.accel3d, spec.heads)));
}

std::string disk_secret_description(std::string_view guest) {
    return fmt::format("LUKS passphrase of {}'s disk (phyllome-shell)", guest);
}

std::string phyllome_disk_secret_xml(const GuestSpec& spec) {
    return disk_secret_xml(spec.name, phyllome_disk_path(spec), spec.secret_uuid);
}

std::string disk_secret_xml(std::string_view guest, std::string_view disk_path, std::string_view uuid) {
    // private: libvirt never hands the passphrase back out; only QEMU gets it.
    return fmt::format(R"(<secret ephemeral='no' private='yes'>
{}  <description>{}</description>
  <usage type='volume'>
    <volume>{}</volume>
  </usage>
</secret>
)",
                       uuid.empty() ? "" : fmt::format("  <uuid>{}</uuid>\n", escape(uuid)),
                       escape(disk_secret_description(guest)), escape(disk_path));
}

} // namespace phyllome::guestview
