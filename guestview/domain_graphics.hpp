// Finds out from a domain's XML whether we can show its screen: only
// <graphics type='dbus' p2p='yes'/> hands us a display connection (virDomainOpenGraphicsFD).
#pragma once

#include <string>
#include <string_view>

#include "guestview/inventory.hpp"

namespace phyllome::guestview {

struct GraphicsInfo {
    GraphicsSupport support = GraphicsSupport::None;
    int dbus_graphics_index = -1; // position among the domain's <graphics> devices
    std::string note;             // for the user when support != DbusP2P
    bool operator==(const GraphicsInfo&) const = default;
};

// Looks only at /domain/devices/graphics. Unparsable XML counts as no graphics, with a note.
GraphicsInfo graphics_from_domain_xml(std::string_view xml);

} // namespace phyllome::guestview
