#include "guestview/embedded_libvirt.hpp"

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <fmt/format.h>

namespace phyllome::guestview {
namespace {
int hex_value(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}
} // namespace

std::optional<std::string> embedded_root(std::string_view uri) {
    constexpr std::string_view prefix = "qemu:///embed?";
    if (!uri.starts_with(prefix))
        return std::nullopt;
    std::string_view query = uri.substr(prefix.size());
    for (std::size_t start = 0; start <= query.size();) {
        std::size_t end = query.find('&', start);
        std::string_view param = query.substr(start, end == std::string_view::npos ? end : end - start);
        if (param.starts_with("root=")) {
            std::string decoded;
            std::string_view v = param.substr(5);
            for (std::size_t i = 0; i < v.size(); ++i) {
                const int hi = i + 2 < v.size() ? hex_value(v[i + 1]) : -1;
                const int lo = i + 2 < v.size() ? hex_value(v[i + 2]) : -1;
                if (v[i] == '%' && hi >= 0 && lo >= 0) {
                    decoded += static_cast<char>(hi * 16 + lo);
                    i += 2;
                } else {
                    decoded += v[i];
                }
            }
            return decoded;
        }
        if (end == std::string_view::npos)
            break;
        start = end + 1;
    }
    return std::nullopt;
}

std::string prepare_embedded_root(std::string_view uri) {
    auto root = embedded_root(uri);
    if (!root)
        return {};
    namespace fs = std::filesystem;
    const fs::path etc = fs::path(*root) / "etc";
    const fs::path conf = etc / "qemu.conf";
    std::error_code ec;
    if (fs::exists(conf, ec))
        return {};
    fs::create_directories(etc, ec);
    if (ec)
        return fmt::format("cannot create {}: {}", etc.string(), ec.message());
    std::ofstream out(conf);
    out << "# Written by phyllome-shell for its embedded libvirt. Edit freely: the shell never\n"
           "# overwrites this file.\n"
           "# No virtlogd runs beside an embedded driver: QEMU writes its log straight to a file.\n"
           "stdio_handler = \"file\"\n";
    if (geteuid() == 0) {
        // The embedded driver is one user's, like qemu:///session: its QEMU runs as that user.
        // As root, libvirt would otherwise drop to libvirt-qemu, which often may not open
        // /dev/kvm, and then re-probes QEMU's capabilities (about a minute) on every start.
        out << "user = \"root\"\ngroup = \"root\"\n";
    }
    if (!out)
        return fmt::format("cannot write {}", conf.string());
    return {};
}

} // namespace phyllome::guestview
