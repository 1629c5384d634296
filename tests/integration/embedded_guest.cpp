#include "embedded_guest.hpp"

#include <cstdlib>

#include <unistd.h>

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

} // namespace phyllome::test
