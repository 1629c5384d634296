// A system-mode libvirtd of the test's own with the real QEMU and secret drivers, as
// qemu:///system runs on a host, reached through its own unix socket only:
//   qemu+unix:///system?socket=<dir>/sock/libvirt-sock
// It runs in a mount namespace of its own in which /etc/libvirt (with our qemu.conf),
// /run/libvirt, /var/lib/libvirt and /var/log/libvirt are directories of its temp dir, so no
// guest, secret or setting of the machine's libvirt is seen or touched; /var/cache/libvirt is a
// kept directory under /var/tmp so QEMU is probed once, not on every run. QEMU runs as root
// without cgroups, namespaces or a security driver (it opens files in /tmp), its output goes to
// files (no virtlogd). A lock file keeps two of these from running at once (per lock name).
// Options give a second host for migration tests: its own network namespace, a TCP listener
// without authentication, its own host UUID and the storage driver. Needs root.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>

namespace phyllome::guestview::testing {

class SystemLibvirtd {
public:
    struct Options {
        std::string host_uuid;    // host_uuid in libvirtd.conf; empty: the machine's own
        bool own_network = false; // a network namespace of its own (only its loopback, down)
        bool listen_tcp = false;  // qemu+tcp on port 16509 of every address, auth_tcp "none"
        bool storage = false;     // also the storage driver (pools, volumes)
        std::string lock_name;    // another name lets it run beside the default one
    };
    // Empty when it can run here, else why not (for GTEST_SKIP).
    static std::string unavailable();

    SystemLibvirtd() : SystemLibvirtd(Options{}) {}
    explicit SystemLibvirtd(Options options);
    ~SystemLibvirtd(); // stop(), then its QEMUs if any survived, then the temp dir
    SystemLibvirtd(const SystemLibvirtd&) = delete;
    SystemLibvirtd& operator=(const SystemLibvirtd&) = delete;

    enum class Started { Ok, DaemonFailed, OurFault };
    // Takes the lock, starts the daemon and waits until its QEMU driver answers. DaemonFailed:
    // it exited or never listened (see log()), this machine's libvirt cannot run here; OurFault:
    // it rejected the configuration written here, or runs but serves no qemu:///system.
    Started start(std::chrono::milliseconds deadline = std::chrono::seconds(120));
    // SIGTERM, and waits until it exited.
    bool stop();

    std::string uri() const { return "qemu+unix:///system?socket=" + dir_ + "/sock/libvirt-sock"; }
    std::string log() const;
    pid_t pid() const { return pid_; }
    // Where the daemon's /var/lib/libvirt is, seen from outside its mount namespace.
    std::string lib_dir() const { return dir_ + "/lib"; }
    // What QEMU wrote for `guest` (stdio_handler = "file").
    std::string guest_log(const std::string& guest) const;
    // Why start() failed, beyond the log.
    const std::string& error() const { return error_; }

private:
    void kill_left_qemus() const;
    bool rejected_config() const;

    Options options_;
    std::string dir_;
    std::string error_;
    pid_t pid_ = -1;
    int pidfd_ = -1;
    int lock_fd_ = -1;
};

// For a test's SetUp: makes and starts `daemon` where it can run (unavailable(), QEMU and
// qemu-img). Both empty when it runs; else `skip` (it cannot run here: GTEST_SKIP) or `failure`
// (ours is at fault: FAIL), with its log.
struct TestStart {
    std::string skip, failure;
};
TestStart start_for_test(std::optional<SystemLibvirtd>& daemon);

} // namespace phyllome::guestview::testing
