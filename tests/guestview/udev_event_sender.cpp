#include "tests/guestview/udev_event_sender.hpp"

#include <arpa/inet.h>
#include <glob.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <vector>

#include <fmt/format.h>

namespace phyllome::test {
namespace {

// The header libudev puts before the properties (systemd's monitor_netlink_header); the
// hashes and magic are in network order.
struct MonitorHeader {
    char prefix[8];
    std::uint32_t magic;
    std::uint32_t header_size;
    std::uint32_t properties_off;
    std::uint32_t properties_len;
    std::uint32_t filter_subsystem_hash;
    std::uint32_t filter_devtype_hash;
    std::uint32_t filter_tag_bloom_hi;
    std::uint32_t filter_tag_bloom_lo;
};
constexpr std::uint32_t udev_monitor_magic = 0xfeedcafe;

struct Fd {
    int fd;
    ~Fd() {
        if (fd >= 0)
            close(fd);
    }
};

struct Glob {
    glob_t result{};
    ~Glob() { globfree(&result); }
};

// The device's "KEY=VALUE" lines from its uevent file; SUBSYSTEM from its subsystem link.
std::vector<std::string> device_properties(const std::filesystem::path& device, std::string& subsystem,
                                           std::string& devtype) {
    std::ifstream uevent(device / "uevent");
    if (!uevent)
        throw std::runtime_error(fmt::format("no device at {}", device.string()));
    std::vector<std::string> properties;
    for (std::string line; std::getline(uevent, line);) {
        if (line.empty() || line.find('=') == std::string::npos)
            continue;
        if (line.starts_with("DEVTYPE="))
            devtype = line.substr(8);
        properties.push_back(line);
    }
    std::error_code error;
    std::filesystem::path link = std::filesystem::read_symlink(device / "subsystem", error);
    if (error)
        throw std::runtime_error(fmt::format("{} has no subsystem link", device.string()));
    subsystem = link.filename().string();
    return properties;
}

} // namespace

std::uint32_t udev_string_hash(const std::string& text) {
    constexpr std::uint32_t m = 0x5bd1e995;
    constexpr int r = 24;
    std::size_t length = text.size();
    std::uint32_t hash = static_cast<std::uint32_t>(length);
    const auto* data = reinterpret_cast<const unsigned char*>(text.data());
    for (; length >= 4; data += 4, length -= 4) {
        std::uint32_t k;
        std::memcpy(&k, data, 4);
        k *= m;
        k ^= k >> r;
        k *= m;
        hash = hash * m ^ k;
    }
    switch (length) {
    case 3: hash ^= static_cast<std::uint32_t>(data[2]) << 16; [[fallthrough]];
    case 2: hash ^= static_cast<std::uint32_t>(data[1]) << 8; [[fallthrough]];
    case 1:
        hash ^= data[0];
        hash *= m;
        break;
    default: break;
    }
    hash ^= hash >> 13;
    hash *= m;
    hash ^= hash >> 15;
    return hash;
}

int send_udev_event(const std::string& testbed_root, const std::string& syspath, const std::string& action,
                    std::uint64_t seqnum) {
    std::string subsystem, devtype;
    std::vector<std::string> properties =
        device_properties(std::filesystem::path(testbed_root + syspath), subsystem, devtype);
    std::string devpath = syspath.starts_with("/sys") ? syspath.substr(4) : syspath;
    std::string body;
    for (const std::string& property : std::vector<std::string>{
             "ACTION=" + action, "DEVPATH=" + devpath, "SUBSYSTEM=" + subsystem, fmt::format("SEQNUM={}", seqnum)}) {
        body += property;
        body += '\0';
    }
    for (const std::string& property : properties) {
        if (property.starts_with("ACTION=") || property.starts_with("DEVPATH=") ||
            property.starts_with("SUBSYSTEM=") || property.starts_with("SEQNUM="))
            continue;
        body += property;
        body += '\0';
    }

    MonitorHeader header{};
    std::memcpy(header.prefix, "libudev", 8);
    header.magic = htonl(udev_monitor_magic);
    header.header_size = sizeof header;
    header.properties_off = sizeof header;
    header.properties_len = static_cast<std::uint32_t>(body.size());
    header.filter_subsystem_hash = htonl(udev_string_hash(subsystem));
    if (!devtype.empty())
        header.filter_devtype_hash = htonl(udev_string_hash(devtype));

    Glob monitors;
    std::string pattern = testbed_root + "/event[0-9]*";
    if (glob(pattern.c_str(), 0, nullptr, &monitors.result) != 0)
        return 0; // no monitor open
    int reached = 0;
    for (std::size_t i = 0; i < monitors.result.gl_pathc; ++i) {
        sockaddr_un address{};
        address.sun_family = AF_UNIX;
        std::string path = monitors.result.gl_pathv[i];
        if (path.size() >= sizeof address.sun_path)
            continue;
        std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
        Fd socket_fd{socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)};
        if (socket_fd.fd < 0)
            throw std::runtime_error(fmt::format("socket: {}", std::strerror(errno)));
        iovec parts[2] = {{&header, sizeof header}, {body.data(), body.size()}};
        msghdr message{};
        message.msg_name = &address;
        message.msg_namelen = sizeof address;
        message.msg_iov = parts;
        message.msg_iovlen = 2;
        if (sendmsg(socket_fd.fd, &message, 0) >= 0)
            ++reached;
        else if (errno == ECONNREFUSED)
            unlink(path.c_str()); // a monitor closed without removing its socket
    }
    return reached;
}

} // namespace phyllome::test
