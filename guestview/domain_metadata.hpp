// The shell's own per-guest settings, kept in the domain's <metadata> so they travel with the
// guest (virsh dumpxml/define, migration) and need no file of our own:
//   <phyllome:identity xmlns:phyllome="https://phyllo.me/xmlns/shell/1.0" slot="2" colour="#4f9dde"/>
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "guestview/inventory.hpp"

namespace phyllome::guestview {

struct GuestIdentity {
    std::optional<int> slot;             // 1..99
    std::optional<std::uint32_t> colour; // 0xRRGGBB
    bool operator==(const GuestIdentity&) const = default;
};

inline constexpr int min_slot = 1;
inline constexpr int max_slot = 99;
inline constexpr std::uint32_t max_colour = 0xffffff;

// Reads /domain/metadata/identity in identity_namespace (any prefix) from a whole domain XML.
// Invalid attributes are left unset and logged at debug level, naming `guest`.
GuestIdentity identity_from_domain_xml(std::string_view xml, std::string_view guest);

// The element virDomainSetMetadata wants (its namespace comes from the call's key and uri),
// e.g. <identity slot="2" colour="#4f9dde"/>; empty when both fields are unset.
std::string identity_element(const GuestIdentity& identity);

// Why `identity` cannot be written, or empty when it can.
std::string identity_problem(const GuestIdentity& identity);

// "#4f9dde" <-> 0x4f9dde; exactly '#' and six hex digits.
std::optional<std::uint32_t> parse_colour(std::string_view text);
std::string format_colour(std::uint32_t rgb);

} // namespace phyllome::guestview
