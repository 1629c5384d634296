#include "guestview/domain_metadata.hpp"

#include <charconv>
#include <memory>

#include <fmt/format.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "config/log.hpp"
#include "guestview/xml_tree.hpp"

namespace phyllome::guestview {
namespace {

using namespace xml;

std::optional<int> parse_slot(std::string_view text) {
    int slot = 0;
    const char* end = text.data() + text.size();
    auto [stop, error] = std::from_chars(text.data(), end, slot);
    if (text.empty() || error != std::errc() || stop != end || slot < min_slot || slot > max_slot)
        return std::nullopt;
    return slot;
}

} // namespace

std::optional<std::uint32_t> parse_colour(std::string_view text) {
    constexpr std::size_t hash_and_six_digits = 7;
    if (text.size() != hash_and_six_digits || text[0] != '#')
        return std::nullopt;
    std::uint32_t rgb = 0;
    const char* end = text.data() + text.size();
    auto [stop, error] = std::from_chars(text.data() + 1, end, rgb, 16);
    if (error != std::errc() || stop != end)
        return std::nullopt; // also rejects "#+12345": from_chars takes no sign
    return rgb;
}

std::string format_colour(std::uint32_t rgb) { return fmt::format("#{:06x}", rgb & max_colour); }

GuestIdentity identity_from_domain_xml(std::string_view xml, std::string_view guest) {
    DocPtr doc{xmlReadMemory(xml.data(), static_cast<int>(xml.size()), "domain.xml", nullptr,
                             XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING)};
    const xmlNode* root = doc ? xmlDocGetRootElement(doc.get()) : nullptr;
    const xmlNode* metadata = root && is_element(root, "domain", std::nullopt)
                                  ? child(root, "metadata", std::nullopt)
                                  : nullptr;
    const xmlNode* element = metadata ? child(metadata, "identity", identity_namespace) : nullptr;
    GuestIdentity identity;
    if (element == nullptr)
        return identity;
    // Someone may have edited the XML by hand: a bad value is ignored, never fatal.
    if (std::optional<std::string> slot = attribute(element, "slot")) {
        identity.slot = parse_slot(*slot);
        if (!identity.slot)
            log::debug("guest '{}': ignoring identity slot=\"{}\": not an integer from {} to {}", guest, *slot,
                       min_slot, max_slot);
    }
    if (std::optional<std::string> colour = attribute(element, "colour")) {
        identity.colour = parse_colour(*colour);
        if (!identity.colour)
            log::debug("guest '{}': ignoring identity colour=\"{}\": not a colour like \"#4f9dde\"", guest,
                       *colour);
    }
    return identity;
}

std::string identity_element(const GuestIdentity& identity) {
    if (!identity.slot && !identity.colour)
        return {};
    std::string element = "<identity";
    if (identity.slot)
        element += fmt::format(" slot=\"{}\"", *identity.slot);
    if (identity.colour)
        element += fmt::format(" colour=\"{}\"", format_colour(*identity.colour));
    return element + "/>";
}

std::string identity_problem(const GuestIdentity& identity) {
    if (identity.slot && (*identity.slot < min_slot || *identity.slot > max_slot))
        return fmt::format("slot {} is not from {} to {}", *identity.slot, min_slot, max_slot);
    if (identity.colour && *identity.colour > max_colour)
        return fmt::format("colour {:#x} is not 0xRRGGBB", *identity.colour);
    return {};
}

} // namespace phyllome::guestview
