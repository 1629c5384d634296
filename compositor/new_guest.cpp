#include "compositor/new_guest.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>

#include <fmt/format.h>

#include "guestview/domain_model.hpp"

namespace phyllome::compositor {

bool is_exported_guest(const std::string& path) { return path.ends_with(".phyllome"); }

std::vector<std::string> find_installers(const std::string& backup_dir) {
    namespace fs = std::filesystem;
    const char* home = std::getenv("HOME");
    const char* data = std::getenv("XDG_DATA_HOME");
    const std::string data_home = data && *data == '/' ? data : std::string(home ? home : "/") + "/.local/share";
    std::vector<std::string> found;
    for (const std::string& dir : {std::string(home ? home : "") + "/Downloads", data_home + "/phyllome/isos",
                                  std::string("/var/lib/libvirt/images"), std::string("/var/lib/libvirt/boot")}) {
        std::error_code ec;
        for (const auto& e : fs::directory_iterator(dir, ec)) {
            std::string ext = e.path().extension().string();
            std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
            if (ext == ".iso" && e.is_regular_file(ec))
                found.push_back(e.path().string());
        }
    }
    std::sort(found.begin(), found.end());
    std::vector<std::string> exported;
    for (const std::string& dir : {std::string(home ? home : "") + "/Downloads", backup_dir}) {
        std::error_code ec;
        for (const auto& e : fs::directory_iterator(dir, ec))
            if (is_exported_guest(e.path().string()) && e.is_regular_file(ec))
                exported.push_back(e.path().string());
    }
    std::sort(exported.begin(), exported.end());
    found.insert(found.end(), exported.begin(), exported.end());
    return found;
}

std::string guest_name_for_installer(const std::string& iso, const std::function<bool(const std::string&)>& taken) {
    // "debian-12.5.0-amd64-netinst.iso" -> "debian-12.5.0-amd64-netinst", made unique.
    std::string stem = std::filesystem::path(iso).stem().string(), base;
    for (char c : stem)
        base += (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.') ? c : '-';
    while (!base.empty() && (base.front() == '.' || base.front() == '-'))
        base.erase(0, 1);
    if (base.empty())
        base = "guest";
    base = base.substr(0, 56);
    std::string name = base;
    for (int n = 2; taken(name); ++n)
        name = fmt::format("{}-{}", base, n);
    return name;
}

std::string backup_directory(const std::string& configured) {
    const char* home = std::getenv("HOME");
    const std::string home_dir = home != nullptr && *home != '\0' ? home : "/root";
    if (configured.empty())
        return home_dir + "/Backups";
    if (configured == "~" || configured.starts_with("~/"))
        return home_dir + configured.substr(1);
    return configured;
}

std::string default_disk_dir(const std::string& uri) { return guestview::default_disk_dir(uri); }

} // namespace phyllome::compositor
