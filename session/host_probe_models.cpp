// What new guests' machine models (guestview/machine_model.hpp) need from the host: osinfo-db to
// recognise installers, swtpm for the TPM 2.0 and OVMF's Secure Boot build with Microsoft's keys
// (both required by Windows 11), and optionally the virtio-win drivers. All read from files: the
// shell never loads libosinfo (the agent does), nor does it ask libvirt here; missing pieces
// limit what can be created and never stop guests from running, so they are warnings.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>

#include <fmt/format.h>

#include "session/firmware_descriptor.hpp"
#include "session/host_probes.hpp"

namespace phyllome::session::probes {
namespace {

namespace fs = std::filesystem;

constexpr const char* no_windows11 = "Windows 11 guests cannot be created";
// The largest file read whole: descriptors and osinfo entries are a few KiB.
constexpr std::uintmax_t max_read = 1 << 20;

std::string read_small(const fs::path& path) {
    std::error_code ec;
    if (fs::file_size(path, ec) > max_read || ec)
        return {};
    std::ifstream f(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

bool executable(const fs::path& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

// `name` in PATH, or under a sysroot in its usual directories only (tests stay off the host's).
std::string find_program(const std::string& sysroot, const std::string& name) {
    std::vector<std::string> dirs;
    if (!sysroot.empty()) {
        for (const char* d : {"/usr/local/bin", "/usr/bin", "/bin", "/usr/sbin"})
            dirs.push_back(sysroot + d);
    } else if (const char* path = std::getenv("PATH"); path != nullptr) {
        for (std::string_view rest = path; !rest.empty();) {
            const auto colon = rest.find(':');
            dirs.emplace_back(rest.substr(0, colon));
            rest = colon == std::string_view::npos ? std::string_view{} : rest.substr(colon + 1);
        }
    }
    for (const std::string& d : dirs)
        if (!d.empty() && executable(fs::path(d) / name))
            return (fs::path(d) / name).string();
    return {};
}

std::string first_line(std::string text) {
    text = text.substr(0, text.find('\n'));
    while (!text.empty() && (text.back() == '\r' || text.back() == ' '))
        text.pop_back();
    return text;
}

} // namespace

CheckItem osinfo_db(const std::string& sysroot) {
    auto result = [](CheckStatus s, std::string detail, std::string action = {}, std::string brief = {}) {
        return CheckItem{"osinfo_db", "OS database (osinfo-db)", s, std::move(detail), std::move(action),
                         std::move(brief)};
    };
    // Where libosinfo looks for the system database.
    const char* env = sysroot.empty() ? std::getenv("OSINFO_SYSTEM_DIR") : nullptr;
    const fs::path dir = env != nullptr && *env != '\0' ? fs::path(env) : fs::path(sysroot + "/usr/share/osinfo");
    std::error_code ec;
    std::size_t vendors = 0;
    for (fs::directory_iterator it(dir / "os", ec), end; !ec && it != end; it.increment(ec))
        vendors += it->is_directory(ec) ? 1 : 0;
    if (vendors == 0)
        return result(CheckStatus::Warning,
                      fmt::format("no operating systems in {}: installers are not recognised, new guests get the "
                                  "compatible machine model and {}",
                                  dir.string(), no_windows11),
                      "install osinfo-db (Debian and Fedora)", "no osinfo-db");
    const std::string version = first_line(read_small(dir / "VERSION"));
    const std::string label = version.empty() ? dir.string() : fmt::format("{} in {}", version, dir.string());
    // Its Windows 11 entry stands for the database being readable and recent enough (2021 on).
    const std::string win11 = read_small(dir / "os" / "microsoft.com" / "win-11.xml");
    if (win11.find("<libosinfo") == std::string::npos || win11.find("<short-id>win11</short-id>") == std::string::npos)
        return result(CheckStatus::Warning,
                      fmt::format("osinfo-db {} has no readable Windows 11 entry (os/microsoft.com/win-11.xml): "
                                  "Windows 11 installers are not recognised",
                                  label),
                      "update osinfo-db (Debian and Fedora)", "no Windows 11 entry");
    return result(CheckStatus::Ok, fmt::format("osinfo-db {} ({} vendors, Windows 11 known)", label, vendors));
}

CheckItem swtpm(const std::string& sysroot) {
    auto result = [](CheckStatus s, std::string detail, std::string action = {}, std::string brief = {}) {
        return CheckItem{"swtpm", "TPM emulator (swtpm)", s, std::move(detail), std::move(action), std::move(brief)};
    };
    const std::string emulator = find_program(sysroot, "swtpm");
    const std::string setup = find_program(sysroot, "swtpm_setup");
    if (emulator.empty())
        return result(CheckStatus::Warning,
                      fmt::format("no swtpm in {}: new guests get no TPM 2.0 and {}",
                                  sysroot.empty() ? "PATH" : sysroot + "/usr/bin", no_windows11),
                      "install swtpm and swtpm-tools (Debian and Fedora)", "no swtpm");
    if (setup.empty())
        return result(CheckStatus::Warning,
                      fmt::format("{} found, but no swtpm_setup to create a TPM's state: {}", emulator, no_windows11),
                      "install swtpm-tools (Debian and Fedora)", "no swtpm_setup");
    return result(CheckStatus::Ok, fmt::format("{} and {}: guests get a TPM 2.0", emulator, setup));
}

CheckItem secure_boot(const std::string& sysroot) {
    auto result = [](CheckStatus s, std::string detail, std::string action = {}, std::string brief = {}) {
        return CheckItem{"secure_boot", "UEFI Secure Boot firmware", s, std::move(detail), std::move(action),
                         std::move(brief)};
    };
    const std::vector<std::string> files = firmware_descriptor_files(sysroot);
    bool uefi = false, secure_only = false;
    for (const std::string& file : files) {
        std::string error;
        const auto d = parse_firmware_descriptor(read_small(file), error);
        if (!d || !d->x86_64_uefi())
            continue; // a broken file is libvirt's to report; it skips it too
        // The image must be there: a descriptor can outlive its package's firmware files.
        std::error_code ec;
        if (!d->executable.empty() && !fs::is_regular_file(sysroot + d->executable, ec))
            continue;
        uefi = true;
        if (d->windows_secure_boot())
            return result(CheckStatus::Ok, fmt::format("{} ({}) has Microsoft's keys enrolled",
                                                       d->executable.empty() ? "firmware" : d->executable,
                                                       fs::path(file).filename().string()));
        secure_only = secure_only || d->has("secure-boot");
    }
    const std::string where = sysroot + "/usr/share/qemu/firmware";
    std::string found = !uefi          ? fmt::format("no x86_64 UEFI firmware in {}: new UEFI guests cannot start", where)
                        : secure_only ? fmt::format("Secure Boot firmware in {}, but none with Microsoft's keys enrolled", where)
                                      : fmt::format("no x86_64 UEFI firmware with Secure Boot in {}", where);
    return result(CheckStatus::Warning, fmt::format("{}; {}", found, no_windows11),
                  "install ovmf (Debian) or edk2-ovmf (Fedora)", "no Secure Boot firmware");
}

CheckItem virtio_win(const std::string& sysroot) {
    // The places guestview/guest_plan.cpp looks first; a guest's own installer folder is also
    // searched when it is made, which no check can know beforehand.
    std::vector<fs::path> places{sysroot + "/usr/share/virtio-win"};
    if (sysroot.empty()) {
        const char* data = std::getenv("XDG_DATA_HOME");
        const char* home = std::getenv("HOME");
        const std::string home_dir = home != nullptr ? home : "";
        places.emplace_back((data != nullptr && *data == '/' ? std::string(data) : home_dir + "/.local/share") +
                            "/phyllome/isos");
        if (!home_dir.empty())
            places.emplace_back(home_dir + "/Downloads");
        places.emplace_back("/var/lib/libvirt/images");
    }
    for (const fs::path& place : places) {
        std::error_code ec;
        std::string best;
        for (fs::directory_iterator it(place, ec), end; !ec && it != end; it.increment(ec)) {
            const std::string name = it->path().filename().string();
            std::error_code e2;
            if (name.starts_with("virtio-win") && name.ends_with(".iso") && it->is_regular_file(e2))
                best = std::max(best, it->path().string());
        }
        if (!best.empty())
            return {"virtio_win", "virtio-win drivers", CheckStatus::Ok,
                    fmt::format("{}: Windows guests get virtio disks and network", best), {}, {}};
    }
    std::string searched;
    for (const fs::path& place : places)
        searched += (searched.empty() ? "" : ", ") + place.string();
    return {"virtio_win",
            "virtio-win drivers",
            CheckStatus::Warning,
            fmt::format("no virtio-win*.iso in {}: Windows guests get a SATA disk and e1000e network (slower, "
                        "no drivers needed)",
                        searched),
            "optional: install virtio-win (Fedora), or put virtio-win.iso in ~/Downloads",
            "no virtio-win"};
}

} // namespace phyllome::session::probes
