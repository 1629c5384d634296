// Where the tests find OVMF (x86_64 UEFI firmware) on any Debian. Debian 12's ovmf ships the
// 2 MB images (OVMF_CODE.fd + OVMF_VARS.fd) and the 4 MiB ones (OVMF_CODE_4M.fd +
// OVMF_VARS_4M.fd); Debian 13's ships only the 4 MiB pair. A firmware image needs the variable
// store built with it, so code and vars are always picked as a pair, 4 MiB first.
//
// A test that starts QEMU itself loads the pair as pflash (ovmf_pflash_args) with a writable copy
// of the vars; a test that defines a libvirt domain lets libvirt pick the firmware and keep the
// NVRAM (<os firmware='efi'>, as guestview/domain_model.cpp does) and only asks whether any is
// installed.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace phyllome::test {

struct OvmfFirmware {
    std::string code; // read-only executable image
    std::string vars; // the pristine variable store that goes with it: copy it before use
};

// Debian's directory, or $PHYLLOME_OVMF_DIR when set (to try another layout).
std::string ovmf_dir();

// The first complete pair in dir: the 4 MiB one, else the 2 MB one; nullopt when neither is there.
std::optional<OvmfFirmware> find_ovmf(const std::string& dir = ovmf_dir());

// Empty when find_ovmf() finds firmware, else why not (for GTEST_SKIP).
std::string ovmf_missing_reason();

// Copies firmware.vars to vars_copy (writable, replacing it) and returns QEMU's two pflash
// drives: the code read-only, the copy writable. Throws std::runtime_error when the copy fails.
std::vector<std::string> ovmf_pflash_args(const OvmfFirmware& firmware, const std::string& vars_copy);

// The <os> element of a domain whose UEFI firmware libvirt picks (with an NVRAM of its own, so
// undefine it with --nvram / VIR_DOMAIN_UNDEFINE_NVRAM). Secure boot off: the enrolled images
// need SMM, which the tests' TCG guests leave out.
std::string efi_os_xml();

} // namespace phyllome::test
