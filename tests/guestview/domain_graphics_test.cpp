#include "guestview/domain_graphics.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace phyllome::guestview {
namespace {

using ::testing::HasSubstr;

std::string domain_with(std::string_view devices) {
    return "<domain type='kvm'><name>g</name><devices>" + std::string{devices} + "</devices></domain>";
}

TEST(DomainGraphics, DbusP2PIsShownWithItsIndexAmongGraphicsDevices) {
    EXPECT_EQ(graphics_from_domain_xml(domain_with("<graphics type='dbus' p2p='yes'/>")),
              (GraphicsInfo{GraphicsSupport::DbusP2P, 0, ""}));
    EXPECT_EQ(graphics_from_domain_xml(domain_with("<graphics type='vnc' port='-1'/><disk type='file'/>"
                                                   "<graphics type=\"dbus\" p2p=\"yes\"></graphics>")),
              (GraphicsInfo{GraphicsSupport::DbusP2P, 1, ""}));
}

TEST(DomainGraphics, TheFirstDbusP2PWins) {
    const auto info = graphics_from_domain_xml(
        domain_with("<graphics type='dbus' p2p='yes'/><graphics type='dbus' p2p='yes'/>"));
    EXPECT_EQ(info.dbus_graphics_index, 0);
}

TEST(DomainGraphics, OtherGraphicsAreUnsupportedWithANote) {
    const auto spice = graphics_from_domain_xml(domain_with("<graphics type='spice' autoport='yes'/>"));
    EXPECT_EQ(spice.support, GraphicsSupport::Unsupported);
    EXPECT_EQ(spice.dbus_graphics_index, -1);
    EXPECT_EQ(spice.note, "uses SPICE graphics; needs <graphics type='dbus' p2p='yes'/>");

    const auto both = graphics_from_domain_xml(
        domain_with("<graphics type='spice'/><graphics type='vnc'/><graphics type='spice'/>"));
    EXPECT_EQ(both.note, "uses SPICE and VNC graphics; needs <graphics type='dbus' p2p='yes'/>");

    const auto bus = graphics_from_domain_xml(domain_with("<graphics type='dbus' address='unix:path=/x'/>"));
    EXPECT_EQ(bus.support, GraphicsSupport::Unsupported);
    EXPECT_THAT(bus.note, HasSubstr("D-Bus (without p2p='yes')"));

    const auto no_p2p = graphics_from_domain_xml(domain_with("<graphics type='dbus' p2p='no'/>"));
    EXPECT_EQ(no_p2p.support, GraphicsSupport::Unsupported);
}

TEST(DomainGraphics, NoGraphicsDevice) {
    const auto info = graphics_from_domain_xml(domain_with("<disk type='file'/>"));
    EXPECT_EQ(info.support, GraphicsSupport::None);
    EXPECT_EQ(info.note, "has no graphics device; needs <graphics type='dbus' p2p='yes'/>");
}

TEST(DomainGraphics, LooksOnlyAtDevices) {
    const auto info = graphics_from_domain_xml(
        "<domain><metadata><app xmlns='urn:x'><graphics type='dbus' p2p='yes'/></app></metadata>"
        "<devices/></domain>");
    EXPECT_EQ(info.support, GraphicsSupport::None);
}

TEST(DomainGraphics, UnreadableXml) {
    const auto info = graphics_from_domain_xml("<domain><devices>");
    EXPECT_EQ(info.support, GraphicsSupport::None);
    EXPECT_THAT(info.note, HasSubstr("could not be read"));
    EXPECT_EQ(graphics_from_domain_xml("").support, GraphicsSupport::None);
}

} // namespace
} // namespace phyllome::guestview
