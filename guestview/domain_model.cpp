#include "guestview/domain_model.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>
#include <system_error>
#include <vector>

#include <fmt/format.h>
#include <libvirt/libvirt.h>

#include "guestview/libvirt_handles.hpp"

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

std::string phyllome_disk_secret_xml(const GuestSpec& spec) {
    // private: libvirt never hands the passphrase back out; only QEMU gets it.
    return fmt::format(R"(<secret ephemeral='no' private='yes'>
  <uuid>{}</uuid>
  <description>LUKS passphrase of {}'s disk (phyllome-shell)</description>
  <usage type='volume'>
    <volume>{}</volume>
  </usage>
</secret>
)",
                       escape(spec.secret_uuid), escape(spec.name), escape(phyllome_disk_path(spec)));
}

} // namespace phyllome::guestview

// The libvirt and qemu-img side, on the worker thread.
namespace phyllome::guestview {
namespace {

struct SecretFreer {
    void operator()(virSecretPtr secret) const { virSecretFree(secret); }
};
using SecretPtr = std::unique_ptr<virSecret, SecretFreer>;

std::string random_hex(std::size_t bytes) {
    std::vector<unsigned char> raw(bytes);
    for (std::size_t got = 0; got < raw.size();) {
        const ssize_t n = getrandom(raw.data() + got, raw.size() - got, 0);
        if (n > 0)
            got += static_cast<std::size_t>(n);
        else if (errno != EINTR)
            throw std::system_error(errno, std::generic_category(), "getrandom");
    }
    std::string hex;
    for (unsigned char byte : raw)
        hex += fmt::format("{:02x}", byte);
    return hex;
}

std::string random_uuid() {
    std::string hex = random_hex(16);
    hex[12] = '4';                                                  // version 4: random
    hex[16] = "89ab"[std::stoi(hex.substr(16, 1), nullptr, 16) & 3]; // RFC 4122 variant
    return hex.substr(0, 8) + '-' + hex.substr(8, 4) + '-' + hex.substr(12, 4) + '-' + hex.substr(16, 4) + '-' +
           hex.substr(20);
}

// Runs a program without a shell; returns its stderr as the error when it fails.
std::string run(const std::vector<std::string>& argv) {
    int pipe_fds[2];
    if (pipe2(pipe_fds, O_CLOEXEC) < 0)
        return std::string{"pipe: "} + std::strerror(errno);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDERR_FILENO);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    std::vector<char*> args;
    for (const std::string& arg : argv)
        args.push_back(const_cast<char*>(arg.c_str()));
    args.push_back(nullptr);
    pid_t pid = -1;
    const int spawned = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    close(pipe_fds[1]);
    std::string output;
    char buffer[512];
    for (ssize_t n; (n = read(pipe_fds[0], buffer, sizeof buffer)) != 0;)
        if (n > 0)
            output.append(buffer, static_cast<std::size_t>(n));
        else if (errno != EINTR)
            break;
    close(pipe_fds[0]);
    if (spawned != 0)
        return fmt::format("cannot run {}: {}", argv[0], std::strerror(spawned));
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return {};
    while (!output.empty() && output.back() == '\n')
        output.pop_back();
    return fmt::format("{} failed: {}", argv[0], output.empty() ? "no message" : output);
}

// qemu-img reads the passphrase from a file, never from its command line where ps shows it.
std::string make_disk(const GuestSpec& spec, const std::string& passphrase) {
    const std::string path = phyllome_disk_path(spec);
    std::vector<std::string> argv{"qemu-img", "create", "-q", "-f", "qcow2"};
    std::string key_file;
    if (!passphrase.empty()) {
        key_file = (std::filesystem::temp_directory_path() / "phyllome-key-XXXXXX").string();
        const int fd = mkstemp(key_file.data()); // mode 0600
        if (fd < 0)
            return std::string{"cannot write the disk key: "} + std::strerror(errno);
        const bool written = write(fd, passphrase.data(), passphrase.size()) == static_cast<ssize_t>(passphrase.size());
        close(fd);
        if (!written) {
            unlink(key_file.c_str());
            return "cannot write the disk key";
        }
        argv.insert(argv.end(), {"--object", "secret,id=key0,file=" + key_file, "-o",
                                 "encrypt.format=luks,encrypt.key-secret=key0"});
    }
    argv.insert(argv.end(), {path, fmt::format("{}G", spec.disk_size_gb)});
    std::string error = run(argv);
    if (!key_file.empty())
        unlink(key_file.c_str());
    if (error.find("cannot run") == 0)
        error += " (qemu-img comes with Debian's qemu-utils)";
    return error;
}

bool kvm_available(virConnectPtr connection) {
    LibvirtString caps{virConnectGetDomainCapabilities(connection, nullptr, "x86_64", "q35", "kvm", 0)};
    if (!caps)
        virResetLastError();
    return caps != nullptr;
}

} // namespace

CreateOutcome create_guest(virConnectPtr connection, GuestSpec spec, GuestNetwork network) {
    CreateOutcome outcome;
    if (std::string problem = guest_spec_problem(spec); !problem.empty()) {
        outcome.message = std::move(problem); // again: the file system may have changed
        return outcome;
    }
    if (DomainPtr existing{virDomainLookupByName(connection, spec.name.c_str())}) {
        outcome.message = fmt::format("a guest named '{}' exists already", spec.name);
        return outcome;
    }
    virResetLastError();

    SecretPtr secret;
    std::string passphrase;
    if (spec.encrypt_disk) {
        if (spec.secret_uuid.empty())
            spec.secret_uuid = random_uuid();
        secret.reset(virSecretDefineXML(connection, phyllome_disk_secret_xml(spec).c_str(), 0));
        if (!secret && virGetLastErrorCode() != VIR_ERR_NO_SUPPORT) {
            outcome.message = "cannot define the disk's secret: " + last_libvirt_error();
            return outcome;
        }
        if (!secret) {
            outcome.message = "the disk is not encrypted: this libvirt connection keeps no secrets (" +
                              last_libvirt_error() + ")";
            spec.encrypt_disk = false;
            spec.secret_uuid.clear();
        } else {
            passphrase = random_hex(32);
            if (virSecretSetValue(secret.get(), reinterpret_cast<const unsigned char*>(passphrase.data()),
                                  passphrase.size(), 0) < 0) {
                outcome.message = "cannot store the disk's passphrase: " + last_libvirt_error();
                virSecretUndefine(secret.get());
                return outcome;
            }
        }
    }
    auto forget_secret = [&] {
        if (secret)
            virSecretUndefine(secret.get());
    };

    if (std::string error = make_disk(spec, passphrase); !error.empty()) {
        forget_secret();
        std::error_code ignored;
        std::filesystem::remove(phyllome_disk_path(spec), ignored);
        outcome.message = std::move(error);
        return outcome;
    }

    const ModelHost host{network, spec.allow_kvm && kvm_available(connection)};
    DomainPtr domain{virDomainDefineXMLFlags(connection, phyllome_domain_xml(spec, host).c_str(),
                                             VIR_DOMAIN_DEFINE_VALIDATE)};
    if (!domain) {
        outcome.message = "cannot define the guest: " + last_libvirt_error();
        forget_secret();
        std::error_code ignored;
        std::filesystem::remove(phyllome_disk_path(spec), ignored);
        return outcome;
    }
    outcome.ok = true;
    if (!host.kvm)
        outcome.message += std::string{outcome.message.empty() ? "" : "; "} +
                           "it runs without KVM (software emulation), slowly";
    return outcome;
}

} // namespace phyllome::guestview
