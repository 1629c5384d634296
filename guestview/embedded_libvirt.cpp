#include "guestview/embedded_libvirt.hpp"

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <fmt/format.h>

#include "guestview/percent_decoding.hpp"

namespace phyllome::guestview {

std::optional<std::string> embedded_root(std::string_view uri) {
    constexpr std::string_view prefix = "qemu:///embed?";
    if (!uri.starts_with(prefix))
        return std::nullopt;
    std::string_view query = uri.substr(prefix.size());
    for (std::size_t start = 0; start <= query.size();) {
        std::size_t end = query.find('&', start);
        std::string_view param = query.substr(start, end == std::string_view::npos ? end : end - start);
        if (param.starts_with("root=")) {
            return percent_decode(param.substr(5));
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
