// The small real guest the integration tests run: OVMF, no disk, a virtio GPU and the D-Bus
// display, in one embedded libvirt root shared by every run (a fresh root spends a while
// probing QEMU), so tests using it must not run at the same time. libvirt picks the firmware and
// keeps an NVRAM for it: undefine the guest with --nvram.
#pragma once

#include <sys/types.h>

#include <initializer_list>
#include <optional>
#include <string>

namespace phyllome::test {

std::string embed_root();
std::string embed_uri();
std::string embedded_guest_xml(const std::string& name);
// Why the guest cannot run here (QEMU, OVMF or one of `programs` missing), or empty.
std::string embedded_guest_missing(std::initializer_list<const char*> programs);
// The QEMU running guest `name` in the embedded root, from libvirt's pid file, checked against its
// command line; nullopt when none runs. Not pgrep: a minimal Debian 13 root has no procps.
std::optional<pid_t> qemu_pid(const std::string& name);

} // namespace phyllome::test
