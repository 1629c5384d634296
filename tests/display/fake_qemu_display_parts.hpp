// FakeQemuDisplay's private parts, shared by its two source files (the server side and the
// messages it sends a listener).
#pragma once

#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tests/display/fake_qemu_display.hpp"

namespace phyllome::guestview::testing {

inline constexpr const char* listener_path = "/org/qemu/Display1/Listener";
inline constexpr const char* listener_interface = "org.qemu.Display1.Listener";

// sd-bus's negative errno results as exceptions: a fake peer that cannot send fails the test.
inline void check(int r, const char* what) {
    if (r < 0)
        throw std::runtime_error(std::string(what) + ": " + std::strerror(-r));
}

// QEMU's role on every display socket: D-Bus auth server, started on `fd` (which it owns).
detail::BusPtr make_server_bus(int fd);

inline std::string console_path(std::uint32_t id) { return "/org/qemu/Display1/Console_" + std::to_string(id); }

struct FakeQemuDisplay::Console {
    FakeQemuDisplay* owner = nullptr;
    std::uint32_t id = 0;
    FakeConsoleConfig config;
};

struct FakeQemuDisplay::Clipboard {
    enum class Owner { None, Client, Guest };
    bool registered = false;
    Owner owner = Owner::None;
    std::uint32_t serial = 0;
    std::string guest_bytes;
    bool agent_hung = false;
    bool reply_malformed = false;
    bool client_object_read = false;
    int client_register_calls = 0;
    int client_grab_calls = 0;
    std::vector<std::string> calls;
    detail::MessagePtr pending_register; // answered once the client's object was read
    std::vector<detail::MessagePtr> hung_requests; // a hung agent's: never answered
    std::vector<detail::SlotPtr> client_calls;
    std::vector<std::shared_ptr<PasteOutcome>> outcomes; // a slot's userdata lives while it may run
};

struct FakeQemuDisplay::Listener {
    detail::BusPtr bus;
    std::unique_ptr<detail::BusEventSource> source;
    ListenerProbe probe;
    detail::SlotPtr probe_call;
    // The outcome is the slot's userdata; callbacks only run while the slot is held here.
    std::vector<std::pair<detail::SlotPtr, std::shared_ptr<CallOutcome>>> calls;
    bool open = true;
};

} // namespace phyllome::guestview::testing
