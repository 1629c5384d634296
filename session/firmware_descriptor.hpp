// QEMU firmware descriptors (QEMU's docs/interop/firmware.json): the JSON files in
// /usr/share/qemu/firmware that libvirt picks a guest's UEFI firmware from. The host check reads
// them to tell whether Windows 11 can get Secure Boot with Microsoft's keys, as libvirt would find
// it, without linking a JSON library into the shell: a small strict parser reads only what is needed.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace phyllome::session {

struct FirmwareDescriptor {
    std::string description;
    std::vector<std::string> interface_types; // "uefi", "bios", ...
    std::vector<std::string> architectures;   // of its targets: "x86_64", ...
    std::vector<std::string> features;        // "secure-boot", "enrolled-keys", "requires-smm", ...
    std::string device;                       // mapping.device: "flash", "memory", "kernel"
    std::string executable;                   // the image: mapping.executable.filename or mapping.filename

    bool has(std::string_view feature) const;
    // UEFI for x86_64 with Secure Boot on and Microsoft's keys enrolled: what Windows 11 needs.
    bool windows_secure_boot() const;
    bool x86_64_uefi() const;
};

// Nullopt with `error` set when `json` is not a JSON object (or nests deeper than any descriptor
// does). Missing or mistyped fields stay empty.
std::optional<FirmwareDescriptor> parse_firmware_descriptor(std::string_view json, std::string& error);

// The descriptor files libvirt and QEMU consider, in their order of priority: *.json in
// /usr/share/qemu/firmware, /etc/qemu/firmware and (without a sysroot) $XDG_CONFIG_HOME/qemu/
// firmware, sorted by file name; a file of the same name in a later directory replaces the
// earlier one, and an empty file just hides it.
std::vector<std::string> firmware_descriptor_files(const std::string& sysroot);

} // namespace phyllome::session
