// libvirt at the URI the shell would use: the only thing that must work for guests to run.
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include <memory>

#include <fmt/format.h>

#include "guestview/embedded_libvirt.hpp"
#include "session/host_probes.hpp"

namespace phyllome::session::probes {
namespace {

void quiet(void*, virErrorPtr) {} // errors are reported in the check's own words

struct ConnectClose {
    void operator()(virConnectPtr c) const { virConnectClose(c); }
};

std::string version_text(unsigned long v) {
    return fmt::format("{}.{}.{}", v / 1000000, v / 1000 % 1000, v % 1000);
}

CheckItem result(CheckStatus status, std::string detail, std::string action = {}, std::string brief = {}) {
    return {"libvirt", "libvirt", status, std::move(detail), std::move(action), std::move(brief)};
}

} // namespace

CheckItem libvirt(const std::string& uri, bool register_event_loop) {
    virSetErrorFunc(nullptr, quiet);
    static const bool registered = register_event_loop && virEventRegisterDefaultImpl() == 0; // once per process
    (void)registered;
    // The embedded driver reads qemu.conf from its root; write the shell's one first so the
    // check connects exactly as the shell would.
    if (std::string err = guestview::prepare_embedded_root(uri); !err.empty())
        return result(CheckStatus::Missing, fmt::format("{}: {}", uri, err),
                      "make $XDG_STATE_HOME (~/.local/state) writable", "cannot prepare");
    std::unique_ptr<virConnect, ConnectClose> conn(virConnectOpen(uri.c_str()));
    if (!conn) {
        const char* msg = virGetLastErrorMessage();
        return result(CheckStatus::Missing, fmt::format("cannot connect to {}: {}", uri, msg ? msg : "unknown error"),
                      uri.starts_with("qemu:///system")
                          ? "start libvirtd or virtqemud (systemctl start libvirtd) and join the libvirt group"
                          : "install libvirt-daemon-driver-qemu, or pick another URI with --libvirt-uri or "
                            "general.libvirt_uri",
                      "unreachable");
    }
    unsigned long lib = 0;
    virConnectGetLibVersion(conn.get(), &lib);
    return result(CheckStatus::Ok, fmt::format("{} answers (libvirt {})", uri, version_text(lib)));
}

} // namespace phyllome::session::probes
