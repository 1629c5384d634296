#include "guestview/domain_model.hpp"

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include <fmt/format.h>

namespace phyllome::guestview {
namespace {

// Generous limits that still catch a typo (MB for GB) before it fills a disk.
constexpr int max_disk_gb = 64 * 1024;
constexpr int min_memory_mb = 128;
constexpr int max_memory_mb = 1024 * 1024;
constexpr int max_cpus = 512;
constexpr std::size_t max_name_length = 64;

// Escapes text for an XML attribute or element; paths and names come from the user.
std::string escape(std::string_view text) {
    std::string out;
    for (char c : text) {
        switch (c) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '\'': out += "&apos;"; break;
        case '"': out += "&quot;"; break;
        default: out += c;
        }
    }
    return out;
}

bool name_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
           c == '-';
}

std::string disk_xml(const GuestSpec& spec) {
    std::string encryption;
    if (spec.encrypt_disk && !spec.secret_uuid.empty())
        encryption = fmt::format(R"(
        <encryption format='luks'>
          <secret type='passphrase' uuid='{}'/>
        </encryption>
      )",
                                 escape(spec.secret_uuid));
    // discard='unmap': a guest's TRIM gives space back to the host's qcow2.
    return fmt::format(R"(    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2' discard='unmap'/>
      <source file='{}'>{}</source>
      <target dev='vda' bus='virtio'/>
      <boot order='2'/>
    </disk>
)",
                       escape(phyllome_disk_path(spec)), encryption);
}

std::string interface_xml(GuestNetwork network) {
    if (network == GuestNetwork::LibvirtDefault)
        return "    <interface type='network'>\n      <source network='default'/>\n      <model type='virtio'/>\n"
               "    </interface>\n";
    return "    <interface type='user'>\n      <model type='virtio'/>\n    </interface>\n";
}

std::string display_xml(bool accel3d) {
    // virgl renders on the host's GPU: the GPU needs accel3d, and QEMU then refuses to start
    // unless the display takes GL too.
    if (accel3d)
        return "    <graphics type='dbus' p2p='yes'>\n      <gl enable='yes'/>\n    </graphics>\n"
               "    <video>\n      <model type='virtio' heads='1' primary='yes'>\n"
               "        <acceleration accel3d='yes'/>\n      </model>\n    </video>\n";
    return "    <graphics type='dbus' p2p='yes'/>\n"
           "    <video>\n      <model type='virtio' heads='1' primary='yes'/>\n    </video>\n";
}

} // namespace

std::string guest_spec_problem(const GuestSpec& spec) {
    // libvirt takes almost any name, but it becomes a file name (disk, NVRAM, logs) and a
    // phyllomectl argument: keep it to a portable set.
    if (spec.name.empty() || spec.name.size() > max_name_length)
        return fmt::format("the name must have 1 to {} characters", max_name_length);
    if (!std::ranges::all_of(spec.name, name_char) || spec.name.front() == '.' || spec.name.front() == '-')
        return fmt::format("the name '{}' may only use letters, digits, '.', '_' and '-', and not start with '.' or '-'",
                           spec.name);
    if (spec.disk_size_gb <= 0 || spec.disk_size_gb > max_disk_gb)
        return fmt::format("the disk size must be 1 to {} GB, not {}", max_disk_gb, spec.disk_size_gb);
    if (spec.memory_mb < min_memory_mb || spec.memory_mb > max_memory_mb)
        return fmt::format("the memory must be {} to {} MB, not {}", min_memory_mb, max_memory_mb, spec.memory_mb);
    if (spec.cpus <= 0 || spec.cpus > max_cpus)
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

std::string phyllome_domain_xml(const GuestSpec& spec, const ModelHost& host) {
    // firmware='efi' lets libvirt pick OVMF from /usr/share/qemu/firmware (Debian's descriptors
    // work with 9.0) and keep an NVRAM per guest. Secure boot off: the enrolled variant would
    // refuse unsigned installers and needs SMM.
    // CD-ROM first, then the disk: an empty disk falls through to the installer, an installed
    // one boots itself once the installer ejects or the user removes the CD.
    return fmt::format(R"(<domain type='{kind}'>
  <name>{name}</name>
  <memory unit='MiB'>{memory}</memory>
  <vcpu>{cpus}</vcpu>
  <os firmware='efi'>
    <type arch='x86_64' machine='q35'>hvm</type>
    <firmware>
      <feature enabled='no' name='secure-boot'/>
    </firmware>
  </os>
  <features>
    <acpi/>
    <apic/>
  </features>
{cpu}  <clock offset='utc'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
{disk}    <disk type='file' device='cdrom'>
      <driver name='qemu' type='raw'/>
      <source file='{iso}'/>
      <target dev='sda' bus='sata'/>
      <readonly/>
      <boot order='1'/>
    </disk>
{net}    <controller type='usb' model='qemu-xhci'/>
    <input type='tablet' bus='usb'/>
    <input type='tablet' bus='virtio'/>
    <input type='keyboard' bus='virtio'/>
{display}    <rng model='virtio'>
      <backend model='random'>/dev/urandom</backend>
    </rng>
    <memballoon model='virtio'/>
  </devices>
</domain>
)",
                       fmt::arg("kind", host.kvm ? "kvm" : "qemu"), fmt::arg("name", escape(spec.name)),
                       fmt::arg("memory", spec.memory_mb), fmt::arg("cpus", spec.cpus),
                       // TCG cannot pass the host's CPU through; its default model is fine.
                       fmt::arg("cpu", host.kvm ? "  <cpu mode='host-passthrough'/>\n" : ""),
                       fmt::arg("disk", disk_xml(spec)), fmt::arg("iso", escape(spec.iso_path)),
                       fmt::arg("net", interface_xml(host.network)), fmt::arg("display", display_xml(spec.accel3d)));
}

std::string disk_secret_description(std::string_view guest) {
    return fmt::format("LUKS passphrase of {}'s disk (phyllome-shell)", guest);
}

std::string phyllome_disk_secret_xml(const GuestSpec& spec) {
    // private: libvirt never hands the passphrase back out; only QEMU gets it.
    return fmt::format(R"(<secret ephemeral='no' private='yes'>
  <uuid>{}</uuid>
  <description>{}</description>
  <usage type='volume'>
    <volume>{}</volume>
  </usage>
</secret>
)",
                       escape(spec.secret_uuid), escape(disk_secret_description(spec.name)),
                       escape(phyllome_disk_path(spec)));
}

} // namespace phyllome::guestview
