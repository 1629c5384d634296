// The connection every QEMU display listener is served on (the console's Listener, the
// AudioOutListener, the AudioInListener): a socketpair whose other end goes to QEMU in a
// Register*Listener(h) call, with an sd-bus *client* on ours (QEMU authenticates as server).
#pragma once

#include <string>

#include "guestview/display/bus_handles.hpp"

namespace phyllome::guestview::detail {

// The bus is made but not started: export the listener's objects first, then sd_bus_start
// (QEMU reads them as soon as it has registered). `qemu_end` receives QEMU's socket. nullptr
// with `error` set on failure.
BusPtr new_listener_bus(const char* description, UniqueFd& qemu_end, std::string& error);

} // namespace phyllome::guestview::detail
