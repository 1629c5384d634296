// A libvirtd of the test's own: its sockets in a temporary directory, no TCP, no auth, and no
// driver modules (LIBVIRT_DRIVER_DIR points at an empty directory), so it serves only the test
// driver built into libvirt and touches nothing of the host's libvirt. Needs root (libvirtd
// runs privileged) and Debian's libvirt-daemon-system.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>

namespace phyllome::test {

class PrivateLibvirtd {
public:
    // Empty when it can run here, else why not (for GTEST_SKIP).
    static std::string unavailable();

    PrivateLibvirtd();
    ~PrivateLibvirtd();
    PrivateLibvirtd(const PrivateLibvirtd&) = delete;
    PrivateLibvirtd& operator=(const PrivateLibvirtd&) = delete;

    // Starts the daemon and waits until its socket accepts connections.
    bool start(std::chrono::milliseconds deadline = std::chrono::seconds(20));
    // SIGTERM, and waits until it exited (it removes its sockets on the way out).
    bool stop();
    bool running() const { return pid_ > 0; }

    std::string socket_path() const { return dir_ + "/sock/libvirt-sock"; }
    // The test driver's default host, through this daemon.
    std::string uri() const { return "test+unix:///default?socket=" + socket_path(); }
    std::string log() const;

private:
    std::string dir_;
    pid_t pid_ = -1;
};

} // namespace phyllome::test
