#include "tests/firmware/ovmf.hpp"

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <system_error>

namespace phyllome::test {
namespace {

namespace fs = std::filesystem;

bool is_file(const fs::path& path) {
    std::error_code ec;
    return fs::is_regular_file(path, ec); // follows symlinks, as QEMU and libvirt do
}

} // namespace

std::string ovmf_dir() {
    if (const char* dir = std::getenv("PHYLLOME_OVMF_DIR"); dir != nullptr && *dir != '\0')
        return dir;
    return "/usr/share/OVMF";
}

std::optional<OvmfFirmware> find_ovmf(const std::string& dir) {
    // 4 MiB first: the only pair Debian 13 ships, and the one libvirt's descriptors prefer.
    for (const auto& [code, vars] : {std::pair{"OVMF_CODE_4M.fd", "OVMF_VARS_4M.fd"},
                                     std::pair{"OVMF_CODE.fd", "OVMF_VARS.fd"}}) {
        const fs::path code_path = fs::path(dir) / code, vars_path = fs::path(dir) / vars;
        if (is_file(code_path) && is_file(vars_path))
            return OvmfFirmware{code_path.string(), vars_path.string()};
    }
    return std::nullopt;
}

std::string ovmf_missing_reason() {
    if (find_ovmf())
        return {};
    return "no OVMF firmware (OVMF_CODE_4M.fd + OVMF_VARS_4M.fd or OVMF_CODE.fd + OVMF_VARS.fd) in " + ovmf_dir() +
           " (install ovmf)";
}

std::vector<std::string> ovmf_pflash_args(const OvmfFirmware& firmware, const std::string& vars_copy) {
    std::error_code ec;
    fs::copy_file(firmware.vars, vars_copy, fs::copy_options::overwrite_existing, ec);
    if (ec)
        throw std::runtime_error("cannot copy " + firmware.vars + " to " + vars_copy + ": " + ec.message());
    // The packaged file is 0644 root's; the copy must be writable by this (maybe other) user.
    fs::permissions(vars_copy, fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::add, ec);
    if (ec)
        throw std::runtime_error("cannot make " + vars_copy + " writable: " + ec.message());
    return {"-drive", "if=pflash,format=raw,unit=0,readonly=on,file=" + firmware.code,
            "-drive", "if=pflash,format=raw,unit=1,file=" + vars_copy};
}

std::string efi_os_xml() {
    return R"(<os firmware='efi'>
    <type arch='x86_64' machine='q35'>hvm</type>
    <firmware><feature enabled='no' name='secure-boot'/></firmware>
  </os>)";
}

} // namespace phyllome::test
