#include "embedded_guest.hpp"

#include <cstdlib>
#include <fstream>
#include <iterator>

#include <unistd.h>

#include "shell_process.hpp"
#include "tests/firmware/ovmf.hpp"

namespace phyllome::test {

// PHYLLOME_TEST_EMBED_ROOT lets parallel runs (two checkouts on one machine) keep apart:
// the embedded driver locks its root.
std::string embed_root() {
    if (const char* root = std::getenv("PHYLLOME_TEST_EMBED_ROOT"); root != nullptr && *root != '\0')
        return root;
    return "/var/tmp/phyllome-test-embed-" + std::to_string(getuid());
}
std::string embed_uri() { return "qemu:///embed?root=" + embed_root(); }

std::string embedded_guest_xml(const std::string& name) {
    // libvirt picks the firmware (Debian 12 and 13 install different images) and keeps an NVRAM.
    return R"(<domain type='qemu'>
  <name>)" + name + R"(</name>
  <memory unit='MiB'>256</memory>
  <vcpu>1</vcpu>
  )" + efi_os_xml() + R"(
  <features><acpi/></features>
  <on_poweroff>destroy</on_poweroff>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <graphics type='dbus' p2p='yes'/>
    <video><model type='virtio' heads='1' primary='yes'/></video>
    <memballoon model='none'/>
  </devices>
</domain>
)";
}

std::optional<pid_t> qemu_pid(const std::string& name) {
    std::ifstream pid_file(embed_root() + "/run/qemu/" + name + ".pid");
    pid_t pid = -1;
    if (!(pid_file >> pid) || pid <= 0)
        return std::nullopt;
    // A pid file outlives its QEMU until libvirt notices; the pid may be reused by then. The
    // comma ends the name (libvirt always adds debug-threads=on), so "a" does not pass for "ab".
    std::ifstream cmdline("/proc/" + std::to_string(pid) + "/cmdline", std::ios::binary);
    const std::string args{std::istreambuf_iterator<char>(cmdline), {}};
    if (args.find("guest=" + name + ",") == std::string::npos)
        return std::nullopt;
    return pid;
}

std::string embedded_guest_missing(std::initializer_list<const char*> programs) {
    if (access("/usr/bin/qemu-system-x86_64", X_OK) != 0)
        return "QEMU is not installed";
    if (std::string missing = ovmf_missing_reason(); !missing.empty())
        return missing;
    for (const char* program : programs)
        if (!have_program(program))
            return std::string(program) + " is not installed";
    return {};
}

} // namespace phyllome::test
