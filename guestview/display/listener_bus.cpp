#include "guestview/display/listener_bus.hpp"

#include <fmt/format.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace phyllome::guestview::detail {

BusPtr new_listener_bus(const char* description, UniqueFd& qemu_end, std::string& error) {
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
        error = fmt::format("socketpair: {}", std::strerror(errno));
        return nullptr;
    }
    UniqueFd our_end(sv[0]);
    qemu_end = UniqueFd(sv[1]);
    sd_bus* raw = nullptr;
    int r = sd_bus_new(&raw);
    if (r < 0) {
        error = fmt::format("sd_bus_new: {}", std::strerror(-r));
        return nullptr;
    }
    BusPtr bus(raw);
    // Client role, EXTERNAL auth (the default), no Hello: QEMU is the auth server.
    r = sd_bus_set_fd(raw, our_end.get(), our_end.get());
    if (r < 0) {
        error = fmt::format("sd_bus_set_fd: {}", std::strerror(-r));
        return nullptr;
    }
    our_end.release(); // the bus owns it now
    sd_bus_set_description(raw, description);
    return bus;
}

} // namespace phyllome::guestview::detail
