// What each kind of config value must look like, as converters plus the words that tell a
// user what was expected when a value does not fit.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <toml++/toml.h>

#include "config/config.hpp"

namespace phyllome::config::detail {

template <typename T>
struct Rule {
    // nullopt when the value has the wrong type or is out of range.
    std::function<std::optional<T>(const toml::node&)> convert;
    std::string expectation; // completes "KEY: ...", e.g. "must be an integer from 0 to 1000"
};

namespace rules {

Rule<bool> boolean();
Rule<std::string> string();
Rule<std::string> non_empty_string();
Rule<std::string> one_of(std::vector<std::string> choices);
Rule<int> integer_in(int min, int max);
// Accepts integers too, since users write `scale = 2`.
Rule<double> number_in(double min, double max);
Rule<LogLevel> log_level();
Rule<Mode> mode();
Rule<std::pair<int, int>> position();
Rule<std::uint32_t> colour();
Rule<std::string> keysym_name();
// A keysym name, or "" for "no key".
Rule<std::string> optional_keysym_name();
Rule<GuestExitPolicy> guest_exit_policy();
Rule<Transform> transform();
// A list of libvirt URIs ("qemu+ssh://host/system"), each with a scheme.
Rule<std::vector<std::string>> uri_list();

} // namespace rules

// A short rendering of a value for "got ..." in messages: "\"big\"", "5000", "an array".
std::string describe(const toml::node& node);

} // namespace phyllome::config::detail
