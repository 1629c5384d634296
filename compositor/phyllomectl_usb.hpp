// phyllomectl's USB verbs: `usb [list] [--json]`, `usb attach NAME DEVICE [--force]`,
// `usb detach DEVICE`, `usb remember NAME DEVICE always|never|forget`.
#pragma once

#include <optional>
#include <string>
#include <variant>

#include "compositor/control_protocol.hpp"

namespace phyllome::compositor::ctl {

// The request for argv when argv[1] is "usb" (or the usage error), nullopt when it is not.
std::optional<std::variant<control::Request, std::string>> parse_usb_command(int argc, char** argv);

// The usage lines of the USB verbs.
const char* usb_usage();

} // namespace phyllome::compositor::ctl
