// Which libvirt to talk to, and where per-user state lives.
#include <cstdlib>
#include <filesystem>
#include <string>

#include <pwd.h>
#include <unistd.h>

#include "guestview/inventory.hpp"

namespace phyllome::guestview {
namespace {

bool socket_exists(const std::filesystem::path& path) {
    std::error_code ignored;
    return std::filesystem::is_socket(path, ignored);
}

// libvirt parses URIs strictly: anything but unreserved characters and '/' must be escaped.
std::string percent_encode_path(std::string_view path) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string encoded;
    for (const char c : path) {
        const auto byte = static_cast<unsigned char>(c);
        const bool keep = (byte >= 'a' && byte <= 'z') || (byte >= 'A' && byte <= 'Z') ||
                          (byte >= '0' && byte <= '9') || c == '-' || c == '.' || c == '_' ||
                          c == '~' || c == '/';
        if (keep) {
            encoded += c;
        } else {
            encoded += '%';
            encoded += hex[byte >> 4];
            encoded += hex[byte & 0xF];
        }
    }
    return encoded;
}

std::string home_directory() {
    if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0')
        return home;
    long size = sysconf(_SC_GETPW_R_SIZE_MAX);
    std::string buffer(size > 0 ? static_cast<std::size_t>(size) : 16384, '\0');
    passwd entry{};
    passwd* found = nullptr;
    if (getpwuid_r(getuid(), &entry, buffer.data(), buffer.size(), &found) == 0 && found != nullptr)
        return found->pw_dir;
    return "/";
}

} // namespace

std::string choose_libvirt_uri(std::string_view cli_uri, std::string_view config_uri,
                               std::string_view state_home, std::string_view run_dir) {
    if (!cli_uri.empty())
        return std::string{cli_uri};
    if (!config_uri.empty())
        return std::string{config_uri};
    // libvirtd (monolithic) or virtqemud (modular daemons) serving the system instance.
    const std::filesystem::path libvirt_run = std::filesystem::path{run_dir} / "libvirt";
    if (socket_exists(libvirt_run / "libvirt-sock") || socket_exists(libvirt_run / "virtqemud-sock"))
        return "qemu:///system";
    const std::string root = std::string{state_home} + "/phyllome/libvirt";
    return "qemu:///embed?root=" + percent_encode_path(root);
}

std::string default_state_home() {
    // The XDG spec says relative values are invalid and must be ignored.
    if (const char* xdg = std::getenv("XDG_STATE_HOME"); xdg != nullptr && xdg[0] == '/')
        return xdg;
    return home_directory() + "/.local/state";
}

} // namespace phyllome::guestview
