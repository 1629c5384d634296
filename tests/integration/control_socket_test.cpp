// The real shell's control socket under abuse: who may connect, what a bad or huge request
// gets, a flood of connections and requests, a client that says nothing, and proof that the
// shell listens on no network socket at all.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <map>
#include <set>

#include "fake_display_session.hpp"
#include "guestview/owned_fd.hpp"
#include "shell_probe.hpp"

namespace phyllome::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr std::size_t max_request = 4096; // control::max_request

TEST(ControlSocket, IsOwnerOnlyAndAnotherUidIsRefusedEvenWhenItCanReachIt) {
    ShellProcess shell({});
    ASSERT_TRUE(shell.started()) << shell.log();
    const std::string path = control_socket_path(shell);
    struct stat st{};
    ASSERT_EQ(::stat(path.c_str(), &st), 0) << path;
    EXPECT_TRUE(S_ISSOCK(st.st_mode));
    EXPECT_EQ(st.st_mode & 0777, 0600u) << "control socket mode " << std::oct << (st.st_mode & 0777);
    EXPECT_EQ(st.st_uid, ::getuid());

    if (::getuid() != 0)
        GTEST_SKIP() << "connecting as another uid needs root";
    // The file mode stops another user first; open the way (runtime dir and socket) to prove the
    // shell's own SO_PEERCRED check refuses it too.
    const std::string runtime_dir = std::filesystem::path(path).parent_path().string();
    const std::string parent = std::filesystem::path(runtime_dir).parent_path().string();
    struct Outcome {
        int connect_errno = 0;
        bool got_bytes = false;
        bool closed = false;
    };
    auto as_nobody = [&] {
        int pipefd[2];
        EXPECT_EQ(::pipe2(pipefd, O_CLOEXEC), 0);
        guestview::OwnedFd from_child(pipefd[0]), to_parent(pipefd[1]);
        pid_t pid = ::fork();
        if (pid == 0) {
            from_child.reset();
            Outcome o;
            if (::setgid(65534) != 0 || ::setuid(65534) != 0)
                _exit(3);
            guestview::OwnedFd fd(::socket(AF_UNIX, SOCK_STREAM, 0));
            sockaddr_un addr{};
            addr.sun_family = AF_UNIX;
            std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
            if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
                o.connect_errno = errno;
            } else {
                [[maybe_unused]] auto s = ::send(fd.get(), "status\n", 7, MSG_NOSIGNAL);
                pollfd p{fd.get(), POLLIN, 0};
                if (::poll(&p, 1, 5000) > 0) {
                    char buf[64];
                    ssize_t n = ::read(fd.get(), buf, sizeof buf);
                    o.got_bytes = n > 0;
                    o.closed = n <= 0;
                }
            }
            [[maybe_unused]] auto w = ::write(to_parent.get(), &o, sizeof o);
            _exit(0);
        }
        to_parent.reset();
        Outcome o;
        EXPECT_EQ(::read(from_child.get(), &o, sizeof o), static_cast<ssize_t>(sizeof o));
        int status = 0;
        ::waitpid(pid, &status, 0);
        EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        return o;
    };
    ::chmod(parent.c_str(), 0711);
    ::chmod(runtime_dir.c_str(), 0711);
    const Outcome blocked = as_nobody();
    EXPECT_EQ(blocked.connect_errno, EACCES) << "mode 0600 lets another uid connect";

    ::chmod(path.c_str(), 0666);
    const Outcome refused = as_nobody();
    ::chmod(path.c_str(), 0600);
    ::chmod(runtime_dir.c_str(), 0700);
    ::chmod(parent.c_str(), 0700);
    EXPECT_EQ(refused.connect_errno, 0) << std::strerror(refused.connect_errno);
    EXPECT_FALSE(refused.got_bytes) << "the shell answered uid 65534";
    EXPECT_TRUE(refused.closed) << "the shell kept uid 65534's connection open";
    EXPECT_NE(shell.log().find("refused a connection from uid 65534"), std::string::npos) << shell.log();
    EXPECT_EQ(shell.ctl({"status"}).exit_code, 0) << "the owner is still served";
}

TEST(ControlSocket, UnknownVerbAndOversizedRequestGetAnErrorAndTheShellCarriesOn) {
    ShellProcess shell({});
    ASSERT_TRUE(shell.started()) << shell.log();
    const std::string path = control_socket_path(shell);

    auto unknown = raw_exchange(path, "frobnicate the guests\n");
    EXPECT_TRUE(unknown.closed_by_shell);
    EXPECT_TRUE(unknown.reply.starts_with("error\nunknown command 'frobnicate'")) << unknown.reply;

    auto garbage = raw_exchange(path, std::string("\x01\x02\xff") + " status\n");
    EXPECT_EQ(garbage.reply, "error\nrequest contains control characters\n");

    // 64 KiB and no newline: an error after max_request bytes, and the connection goes.
    auto huge = raw_exchange(path, std::string(64 * 1024, 'a'));
    EXPECT_TRUE(huge.closed_by_shell);
    EXPECT_EQ(huge.reply, "error\nrequest longer than 4096 bytes\n");
    // One byte within the limit is a request (here: a guest that does not exist).
    auto longest = raw_exchange(path, "show " + std::string(max_request - 5, 'n') + "\n");
    EXPECT_TRUE(longest.reply.starts_with("error\ncannot show nnn")) << longest.reply.substr(0, 80);

    EXPECT_TRUE(shell.running());
    EXPECT_EQ(shell.ctl({"status"}).exit_code, 0) << shell.log();
}

TEST(ControlSocket, SilentClientIsClosedAfterTwoSeconds) {
    ShellProcess shell({});
    ASSERT_TRUE(shell.started()) << shell.log();
    const auto t0 = Clock::now();
    auto silent = raw_exchange(control_socket_path(shell), "", 6s);
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0);
    EXPECT_TRUE(silent.closed_by_shell) << "still open after 6 s";
    EXPECT_EQ(silent.reply, "error\ntimeout: no request within 2000 ms\n");
    EXPECT_GE(took.count(), 1900);
    EXPECT_LT(took.count(), 4000);
    std::printf("silent client closed after %lld ms\n", static_cast<long long>(took.count()));
}

guestview::OwnedFd connect_blocking(const std::string& path) {
    guestview::OwnedFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
    // Blocking: when the listen backlog is full the kernel makes us wait for the shell to accept.
    if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
        return {};
    return fd;
}

// Reads until the shell closes; "(no answer)" if it did not within the deadline.
std::string read_all(int fd, Clock::time_point deadline) {
    std::string reply;
    for (;;) {
        pollfd p{fd, POLLIN, 0};
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
        if (left <= 0 || ::poll(&p, 1, static_cast<int>(left)) <= 0)
            return "(no answer)";
        char buf[65536];
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n <= 0)
            return reply;
        reply.append(buf, static_cast<std::size_t>(n));
    }
}

std::string kind_of(const std::string& reply) {
    return reply.starts_with("ok\n")                              ? "ok"
           : reply.starts_with("error\nbusy: too many requests")  ? "busy (rate)"
           : reply.starts_with("error\nbusy:")                    ? "busy (connections)"
           : reply.starts_with("error\ntimeout")                  ? "timeout"
           : reply.empty()                                        ? "closed"
                                                                  : reply.substr(0, 20);
}

TEST(ControlSocket, FloodOfConnectionsAndRequestsLeavesTheShellResponsiveAndBounded) {
    // 1000 client sockets open at once in this process.
    rlimit nofile{};
    ::getrlimit(RLIMIT_NOFILE, &nofile);
    nofile.rlim_cur = std::max<rlim_t>(nofile.rlim_cur, std::min<rlim_t>(nofile.rlim_max, 4096));
    ::setrlimit(RLIMIT_NOFILE, &nofile);
    ASSERT_GE(nofile.rlim_cur, 1100u) << "the test needs 1100 fds";

    ShellProcess shell({});
    ASSERT_TRUE(shell.started()) << shell.log();
    const std::string path = control_socket_path(shell);
    auto pid = shell_pid(shell);
    ASSERT_TRUE(pid);
    // The baseline once the count holds still for 10 polls (200 ms): the pid probe's connection
    // and start-up's own file reads (fonts, the cursor theme, the host check) come and go first.
    int fds_before = -1, unchanged = 0;
    ASSERT_TRUE(wait_until(
        [&] {
            const int now = open_fd_count(*pid);
            unchanged = now == fds_before ? unchanged + 1 : 0;
            fds_before = now;
            return now > 0 && unchanged >= 10;
        },
        10s));

    // 40 clients that connect and say nothing: the shell holds 16 and turns the rest away.
    std::vector<guestview::OwnedFd> silent;
    for (int i = 0; i < 40; ++i)
        silent.push_back(connect_blocking(path));
    std::map<std::string, int> silent_outcomes;
    for (std::size_t i = 16; i < silent.size(); ++i)
        ++silent_outcomes[kind_of(read_all(silent[i].get(), Clock::now() + 1s))];
    const int fds_holding = open_fd_count(*pid);
    EXPECT_EQ(silent_outcomes["busy (connections)"], 24) << "beyond 16 connections the shell must refuse";
    // Two fds a connection: libwayland's event source holds a duplicate of the socket.
    EXPECT_LE(fds_holding, fds_before + 2 * 16) << "the shell holds more than 16 connections";
    std::printf("40 silent clients: the shell held %d fds (%d before), turned %d away\n", fds_holding, fds_before,
                silent_outcomes["busy (connections)"]);
    silent.clear();

    // 1000 connections at once, each with a request, none read until all are open.
    const auto flood_start = Clock::now();
    std::vector<guestview::OwnedFd> clients;
    for (int i = 0; i < 1000; ++i) {
        auto fd = connect_blocking(path);
        ASSERT_GE(fd.get(), 0) << "connection " << i << ": " << std::strerror(errno);
        [[maybe_unused]] auto n = ::send(fd.get(), "status --json\n", 14, MSG_NOSIGNAL);
        clients.push_back(std::move(fd));
    }
    std::map<std::string, int> outcomes;
    const auto end = Clock::now() + 20s;
    for (auto& fd : clients) {
        ++outcomes[kind_of(read_all(fd.get(), end))];
        fd = guestview::OwnedFd();
    }
    std::printf("1000 connections at once:");
    for (const auto& [kind, n] : outcomes)
        std::printf(" %d %s,", n, kind.c_str());
    std::printf("\n");
    EXPECT_EQ(outcomes.count("(no answer)"), 0u) << "a connection was left hanging";
    EXPECT_GT(outcomes["ok"], 0);
    EXPECT_EQ(outcomes["ok"] + outcomes["busy (rate)"] + outcomes["busy (connections)"], 1000);

    // 2000 requests one after another as fast as they go: more than the bucket allows.
    int ok = 0, busy = 0, other = 0;
    for (int i = 0; i < 2000; ++i) {
        auto ex = raw_exchange(path, "status\n", 5s);
        if (ex.reply.starts_with("ok\n"))
            ++ok;
        else if (ex.reply.starts_with("error\nbusy: too many requests"))
            ++busy;
        else
            ++other;
    }
    const double secs = std::chrono::duration<double>(Clock::now() - flood_start).count();
    std::printf("then 2000 sequential requests: %d ok, %d busy, %d other; %.2f s for both floods\n", ok, busy, other,
                secs);
    EXPECT_EQ(other, 0);
    // The work done is what the bucket allows: a burst of 1000, then 500 a second; the rest
    // (of those that got a connection) were answered busy.
    const int allowed = 1000 + static_cast<int>(500 * secs);
    EXPECT_LE(outcomes["ok"] + ok, allowed + 5);
    EXPECT_GE(outcomes["busy (rate)"] + busy, 3000 - outcomes["busy (connections)"] - allowed - 5);
    EXPECT_GT(busy, 0);

    // Afterwards: alive, answering once the bucket has refilled a little, fds back.
    EXPECT_TRUE(wait_until([&] { return shell.ctl({"status"}).exit_code == 0; }, 5s)) << shell.log();
    EXPECT_TRUE(shell.running());
    int fds_after = -1;
    EXPECT_TRUE(wait_until([&] { return (fds_after = open_fd_count(*pid)) <= fds_before; }, 5s))
        << "shell fds " << fds_before << " before the flood, " << fds_after << " after";
    std::printf("shell fds: %d before, %d after\n", fds_before, fds_after);
}

TEST(ControlSocket, ShellHasNoNetworkSocket) {
    // A guest display attached, so the shell's D-Bus connection is among its sockets.
    FakeDisplaySession session({});
    ASSERT_TRUE(session.wait_attached(20s)) << session.shell().log();
    auto pid = shell_pid(session.shell());
    ASSERT_TRUE(pid);
    // Only sockets it holds both before and after the tables are read: the connection the
    // pid probe made may be closing meanwhile, and then is in no table.
    const auto before = socket_inodes(*pid);
    std::map<std::string, std::set<unsigned long>> tables;
    for (const char* table : {"tcp", "tcp6", "udp", "udp6", "raw", "raw6", "udplite", "udplite6", "packet", "unix"})
        tables[table] = net_table_inodes(*pid, table);
    std::set<unsigned long> sockets;
    for (unsigned long inode : socket_inodes(*pid))
        if (before.count(inode))
            sockets.insert(inode);
    ASSERT_GE(sockets.size(), 3u) << "Wayland, control and display sockets at least";
    for (const auto& [table, inodes] : tables) {
        if (table == "unix")
            continue;
        for (unsigned long inode : sockets)
            EXPECT_EQ(inodes.count(inode), 0u) << "the shell holds a " << table << " socket (inode " << inode << ")";
    }
    // And positively: every one of its sockets is a unix socket, but for the udev monitor's
    // netlink socket (the kernel's device events: USB devices plugged in), no network either.
    const std::set<unsigned long> uevents = netlink_inodes(*pid, 15);
    int unix_count = 0, uevent_count = 0;
    for (unsigned long inode : sockets) {
        EXPECT_EQ(tables["unix"].count(inode) + uevents.count(inode), 1u)
            << "socket inode " << inode << " is neither a unix socket nor udev's netlink";
        unix_count += tables["unix"].count(inode) > 0;
        uevent_count += uevents.count(inode) > 0;
    }
    EXPECT_LE(uevent_count, 1) << "one udev monitor";
    std::printf("the shell holds %zu sockets, %d of them unix sockets, %d udev's netlink\n", sockets.size(),
                unix_count, uevent_count);
}

} // namespace
} // namespace phyllome::test
