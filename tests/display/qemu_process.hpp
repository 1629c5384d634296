// Starts qemu-system-x86_64 with the D-Bus display in p2p mode and attaches a display
// socket through QMP exactly as libvirt's virDomainOpenGraphicsFD does (getfd with
// SCM_RIGHTS, then add_client protocol=@dbus-display).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>

#include "guestview/display/bus_handles.hpp"

namespace phyllome::guestview::testing {

class QemuProcess {
public:
    // Empty when the binary or the firmware is missing (the test skips then).
    static std::string missing_requirement();

    QemuProcess();   // starts QEMU; throws std::runtime_error on failure
    ~QemuProcess();  // kills and reaps it
    QemuProcess(const QemuProcess&) = delete;
    QemuProcess& operator=(const QemuProcess&) = delete;

    // Connects QMP (waiting for QEMU to create its socket) and returns our end of a
    // socketpair whose other end QEMU now serves as a p2p display client.
    int open_graphics_fd(std::chrono::milliseconds timeout);

private:
    void connect_qmp(std::chrono::steady_clock::time_point deadline);
    std::string command(const std::string& json, int pass_fd, std::chrono::steady_clock::time_point deadline);
    std::string read_line(std::chrono::steady_clock::time_point deadline);

    std::string dir_;
    std::string qmp_path_;
    pid_t pid_ = -1;
    detail::UniqueFd qmp_;
    std::string buffered_;
};

} // namespace phyllome::guestview::testing
