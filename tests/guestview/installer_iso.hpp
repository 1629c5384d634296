// Test installers: ISO 9660 images made with xorriso that carry the volume, publisher and
// system ids libosinfo matches real installers by, and libvirt's schema check for the XML made
// from them.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include <fmt/format.h>

namespace phyllome::guestview::testing {

inline bool have_program(const char* name) {
    return std::system(fmt::format("command -v {} > /dev/null 2>&1", name).c_str()) == 0;
}

struct IsoIds {
    std::string volume;
    std::string publisher;
    std::string system;
    bool bootable = true; // an El Torito boot record, as every installer has
};

// Writes `dir`/`name`; returns its path, or an empty string (and `error`) when xorriso fails.
inline std::string make_installer_iso(const std::filesystem::path& dir, const std::string& name, const IsoIds& ids,
                                      std::string& error) {
    namespace fs = std::filesystem;
    const fs::path tree = dir / (name + ".tree");
    fs::create_directories(tree / "boot");
    std::ofstream{tree / "boot" / "boot.img"} << std::string(2048, '\x90');
    std::ofstream{tree / "README.TXT"} << "made by a phyllome-shell test\n";
    const fs::path iso = dir / name;
    std::string command = fmt::format("xorriso -as mkisofs -quiet -o '{}' -V '{}'", iso.string(), ids.volume);
    if (!ids.publisher.empty())
        command += fmt::format(" -publisher '{}'", ids.publisher);
    if (ids.bootable)
        command += " -b boot/boot.img -no-emul-boot";
    const fs::path log = dir / (name + ".log");
    command += fmt::format(" '{}' > '{}' 2>&1", tree.string(), log.string());
    if (std::system(command.c_str()) != 0) {
        std::ifstream in{log};
        error = "xorriso failed: " + std::string{std::istreambuf_iterator<char>{in}, {}};
        return {};
    }
    // xorriso upper-cases the system id as ISO 9660 asks; real installers (FreeBSD's "FreeBSD")
    // do not, and libosinfo matches the exact text: write it into the primary volume descriptor.
    if (!ids.system.empty()) {
        constexpr std::streamoff system_id_offset = 16 * 2048 + 8;
        constexpr std::size_t system_id_size = 32;
        std::fstream file{iso, std::ios::in | std::ios::out | std::ios::binary};
        std::string padded = ids.system.substr(0, system_id_size);
        padded.resize(system_id_size, ' ');
        file.seekp(system_id_offset);
        file.write(padded.data(), static_cast<std::streamsize>(padded.size()));
        if (!file) {
            error = "cannot write the system id into " + iso.string();
            return {};
        }
    }
    return iso.string();
}

// virt-xml-validate (libvirt-clients) against the installed schema: "" when valid, else its
// output and the XML.
inline std::string virt_xml_validate(const std::filesystem::path& dir, const std::string& xml,
                                     const char* schema = "domain") {
    const auto file = dir / "validate.xml";
    std::ofstream{file} << xml;
    const auto log = dir / "validate.log";
    const int status =
        std::system(fmt::format("virt-xml-validate '{}' {} > '{}' 2>&1", file.string(), schema, log.string()).c_str());
    std::ifstream in{log};
    std::string output{std::istreambuf_iterator<char>{in}, {}};
    return status == 0 ? std::string{} : output + "\n" + xml;
}

// The ids of real installers, as osinfo-db (2025) matches them.
inline IsoIds windows11_ids() { return {"CCCOMA_X64FRE_EN-US_DV9", "MICROSOFT CORPORATION", "", true}; }
inline IsoIds debian12_ids() { return {"Debian 12.9.0 amd64 n", "", "", true}; }
inline IsoIds fedora42_ids() { return {"Fedora-WS-Live-42-1-1", "", "LINUX", true}; }
inline IsoIds freebsd14_ids() { return {"14_2_RELEASE_AMD64_CD", "", "FreeBSD", true}; }

} // namespace phyllome::guestview::testing
