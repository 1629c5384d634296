// Reads the a{sv} of Properties.GetAll replies and PropertiesChanged signals into plain
// values, skipping types guestview does not use.
#pragma once

#include <systemd/sd-bus.h>

#include <cstdint>
#include <map>
#include <string>
#include <variant>
#include <vector>

namespace phyllome::guestview::detail {

using PropertyValue = std::variant<std::monostate, std::uint32_t, std::int32_t, bool, std::string,
                                   std::vector<std::uint32_t>, std::vector<std::string>>;
using PropertyMap = std::map<std::string, PropertyValue>;

// Reads one a{sv} at the message's read position. Negative errno on malformed input.
int read_property_dict(sd_bus_message* message, PropertyMap& out);

template <typename T>
const T* property_as(const PropertyMap& properties, const std::string& name) {
    auto it = properties.find(name);
    return it == properties.end() ? nullptr : std::get_if<T>(&it->second);
}

} // namespace phyllome::guestview::detail
