// Two fake QEMU displays, "amber" and "teal", each listening on its own unix socket, for tests
// that switch between guests or check that input reaches only the shown one.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <wayland-server-core.h>

#include "shell_process.hpp"
#include "tests/display/fake_qemu_display.hpp"

namespace phyllome::test {

using FakeGuests = std::map<std::string, std::unique_ptr<guestview::testing::FakeQemuDisplay>>;

// Both peers on `loop`, at `dir`/amber.sock and `dir`/teal.sock.
FakeGuests listen_two_fake_guests(wl_event_loop* loop, const std::string& dir);
// The shell's --display arguments for them.
std::vector<std::string> two_fake_guests_args(const std::string& dir);
// Both have a listener registered, both displays are connected and one of them is shown.
bool two_fake_guests_attached(const FakeGuests& guests, ShellProcess& shell);
// Each sends a full 1280x800 frame in its colour (absolute pointer positions map onto it).
void paint_two_fake_guests(FakeGuests& guests, unsigned amber_colour, unsigned teal_colour);
// The shell counted a frame from each.
bool two_fake_guests_painted(ShellProcess& shell);
// A shell showing both (virtual input allowed), each guest with a full frame in its colour,
// pumping `loop` (the peers') while it waits; null with `error` (and the shell's log) if not.
// `more_toml` follows the config's [security] keys (keys before a table header land there).
std::unique_ptr<ShellProcess> start_shell_with_two_fake_guests(wl_event_loop* loop, FakeGuests& guests,
                                                                const std::string& dir, unsigned amber_colour,
                                                                unsigned teal_colour, std::string& error,
                                                                const std::string& more_toml = "");

} // namespace phyllome::test
