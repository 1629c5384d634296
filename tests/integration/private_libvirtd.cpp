#include "private_libvirtd.hpp"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "shell_process.hpp"
#include "tests/guestview/test_support.hpp"

namespace phyllome::test {
namespace fs = std::filesystem;

namespace {

constexpr const char* libvirtd = "/usr/sbin/libvirtd";

using guestview::testing::unix_socket_accepts;

} // namespace

std::string PrivateLibvirtd::unavailable() {
    if (::access(libvirtd, X_OK) != 0)
        return "libvirtd is not installed";
    if (::geteuid() != 0)
        return "a private libvirtd needs root";
    return {};
}

PrivateLibvirtd::PrivateLibvirtd() {
    char tmpl[] = "/tmp/phyllome-libvirtd-XXXXXX";
    dir_ = mkdtemp(tmpl);
    fs::create_directories(dir_ + "/sock");
    fs::create_directories(dir_ + "/no-drivers");
    std::ofstream(dir_ + "/libvirtd.conf") << "listen_tls = 0\nlisten_tcp = 0\nunix_sock_dir = \"" << dir_
                                           << "/sock\"\nunix_sock_rw_perms = \"0700\"\nauth_unix_ro = \"none\"\n"
                                              "auth_unix_rw = \"none\"\nlog_outputs = \"3:stderr\"\n";
}

PrivateLibvirtd::~PrivateLibvirtd() {
    stop();
    std::error_code ec;
    fs::remove_all(dir_, ec);
}

bool PrivateLibvirtd::start(std::chrono::milliseconds deadline) {
    if (pid_ > 0)
        return true;
    const std::string conf = dir_ + "/libvirtd.conf", pid_file = dir_ + "/libvirtd.pid", log = dir_ + "/libvirtd.log";
    const std::string driver_dir = dir_ + "/no-drivers";
    pid_ = fork();
    if (pid_ == 0) {
        const int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        dup2(out, 1);
        dup2(out, 2);
        setenv("LIBVIRT_DRIVER_DIR", driver_dir.c_str(), 1);
        unsetenv("NOTIFY_SOCKET");
        execl(libvirtd, libvirtd, "-f", conf.c_str(), "-p", pid_file.c_str(), static_cast<char*>(nullptr));
        _exit(127);
    }
    return wait_until(
        [&] {
            int status = 0;
            if (waitpid(pid_, &status, WNOHANG) == pid_) {
                pid_ = -1;
                return true; // it died: give up at once
            }
            return unix_socket_accepts(socket_path());
        },
        deadline) && pid_ > 0;
}

bool PrivateLibvirtd::stop() {
    if (pid_ <= 0)
        return true;
    ::kill(pid_, SIGTERM);
    int status = 0;
    const bool exited = wait_until([&] { return waitpid(pid_, &status, WNOHANG) == pid_; }, std::chrono::seconds(15));
    if (!exited) {
        ::kill(pid_, SIGKILL);
        waitpid(pid_, &status, 0);
    }
    pid_ = -1;
    return exited;
}

std::string PrivateLibvirtd::log() const {
    std::ifstream f(dir_ + "/libvirtd.log");
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

} // namespace phyllome::test
