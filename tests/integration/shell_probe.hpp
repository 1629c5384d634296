// What a test can learn about a running shell from outside: its pid (SO_PEERCRED on its
// control socket), memory and fds from /proc, and raw exchanges on the control socket.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <set>
#include <string>

#include "shell_process.hpp"

namespace phyllome::test {

std::string control_socket_path(const ShellProcess& shell);
// The pid at the other end of the shell's control socket.
std::optional<pid_t> shell_pid(const ShellProcess& shell);

long resident_kb(pid_t pid);  // VmRSS; -1 if unreadable
int open_fd_count(pid_t pid); // entries of /proc/PID/fd; -1 if unreadable
// Inodes of the sockets among the process's fds.
std::set<unsigned long> socket_inodes(pid_t pid);
// Inodes listed in /proc/PID/net/<table> (tcp, tcp6, udp, udp6, raw, raw6, udplite, udplite6,
// packet, netlink, unix).
std::set<unsigned long> net_table_inodes(pid_t pid, const std::string& table);
// The inodes of the process's netlink sockets of `protocol` (its "Eth" column in
// /proc/PID/net/netlink; 15 is NETLINK_KOBJECT_UEVENT, udev's device events).
std::set<unsigned long> netlink_inodes(pid_t pid, int protocol);

struct RawExchange {
    bool connected = false;
    bool closed_by_shell = false; // EOF (or reset) seen before the deadline
    std::string reply;
};
// Connects, sends `bytes` as is, then reads until the shell closes or `deadline` passes.
RawExchange raw_exchange(const std::string& socket_path, const std::string& bytes,
                         std::chrono::milliseconds deadline = std::chrono::seconds(5));

} // namespace phyllome::test
