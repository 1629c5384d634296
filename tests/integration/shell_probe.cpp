#include "shell_probe.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "guestview/owned_fd.hpp"

namespace phyllome::test {
namespace {

guestview::OwnedFd connect_unix(const std::string& path) {
    guestview::OwnedFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
    if (fd.get() < 0 || ::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
        return {};
    return fd;
}

} // namespace

std::string control_socket_path(const ShellProcess& shell) {
    for (const auto& kv : shell.client_env())
        if (kv.starts_with("XDG_RUNTIME_DIR="))
            return kv.substr(16) + "/phyllome-shell.wayland-0.sock";
    return {};
}

std::optional<pid_t> shell_pid(const ShellProcess& shell) {
    auto fd = connect_unix(control_socket_path(shell));
    ucred cred{};
    socklen_t len = sizeof cred;
    if (fd.get() < 0 || ::getsockopt(fd.get(), SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || cred.pid <= 0)
        return std::nullopt;
    return cred.pid;
}

long resident_kb(pid_t pid) {
    std::ifstream f("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(f, line))
        if (line.starts_with("VmRSS:"))
            return std::stol(line.substr(6));
    return -1;
}

int open_fd_count(pid_t pid) {
    std::error_code ec;
    int n = 0;
    for (std::filesystem::directory_iterator it("/proc/" + std::to_string(pid) + "/fd", ec), end; !ec && it != end;
         it.increment(ec))
        ++n;
    return ec ? -1 : n;
}

std::set<unsigned long> socket_inodes(pid_t pid) {
    std::set<unsigned long> out;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec)) {
        const std::string target = std::filesystem::read_symlink(e.path(), ec).string();
        if (!ec && target.starts_with("socket:[") && target.ends_with("]"))
            out.insert(std::stoul(target.substr(8, target.size() - 9)));
    }
    return out;
}

std::set<unsigned long> netlink_inodes(pid_t pid, int protocol) {
    std::set<unsigned long> out;
    std::ifstream f("/proc/" + std::to_string(pid) + "/net/netlink");
    std::string line;
    std::getline(f, line); // sk Eth Pid Groups Rmem Wmem Dump Locks Drops Inode
    while (std::getline(f, line)) {
        std::istringstream row(line);
        std::vector<std::string> fields;
        for (std::string field; row >> field;)
            fields.push_back(field);
        if (fields.size() >= 10 && std::stoi(fields[1]) == protocol)
            out.insert(std::stoul(fields[9]));
    }
    return out;
}

std::set<unsigned long> net_table_inodes(pid_t pid, const std::string& table) {
    std::set<unsigned long> out;
    std::ifstream f("/proc/" + std::to_string(pid) + "/net/" + table);
    std::string line;
    std::getline(f, line); // the header names the columns
    std::istringstream header(line);
    std::string column;
    int inode_column = -1;
    for (int i = 0; header >> column; ++i)
        if (column == "inode" || column == "Inode")
            inode_column = i;
    // tcp/udp/raw headers label "tx_queue rx_queue" and "tr tm->when" as two columns each but
    // the rows fill them as one: count from the end instead where the header is irregular.
    while (std::getline(f, line)) {
        std::istringstream row(line);
        std::vector<std::string> fields;
        for (std::string field; row >> field;)
            fields.push_back(field);
        if (table == "unix" || table == "packet" || table == "netlink") {
            if (inode_column >= 0 && static_cast<std::size_t>(inode_column) < fields.size())
                out.insert(std::stoul(fields[static_cast<std::size_t>(inode_column)]));
        } else if (fields.size() >= 10) {
            out.insert(std::stoul(fields[9])); // sl local rem st tx:rx tr:when retrnsmt uid timeout inode
        }
    }
    return out;
}

RawExchange raw_exchange(const std::string& socket_path, const std::string& bytes, std::chrono::milliseconds deadline) {
    RawExchange ex;
    auto fd = connect_unix(socket_path);
    if (fd.get() < 0)
        return ex;
    ex.connected = true;
    std::size_t sent = 0;
    const auto end = std::chrono::steady_clock::now() + deadline;
    while (std::chrono::steady_clock::now() < end) {
        pollfd p{fd.get(), static_cast<short>(POLLIN | (sent < bytes.size() ? POLLOUT : 0)), 0};
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now());
        if (::poll(&p, 1, static_cast<int>(std::max<long long>(0, left.count()))) <= 0)
            continue;
        if ((p.revents & POLLOUT) && sent < bytes.size()) {
            ssize_t n = ::send(fd.get(), bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
            if (n > 0)
                sent += static_cast<std::size_t>(n);
            else if (n < 0 && errno != EAGAIN)
                sent = bytes.size(); // the shell has closed: read what it said
        }
        if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
            char buf[4096];
            ssize_t n = ::recv(fd.get(), buf, sizeof buf, MSG_DONTWAIT);
            if (n > 0) {
                ex.reply.append(buf, static_cast<std::size_t>(n));
            } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
                ex.closed_by_shell = true;
                break;
            }
        }
    }
    return ex;
}

} // namespace phyllome::test
