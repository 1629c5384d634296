// Reading and writing the <phyllome:identity> metadata element, without libvirt.
#include "guestview/domain_metadata.hpp"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/log.hpp"

namespace phyllome::guestview {
namespace {

std::string domain_with_metadata(std::string_view metadata) {
    return "<domain type='kvm'><name>g</name><metadata>" + std::string{metadata} +
           "</metadata><devices/></domain>";
}

std::string identity(std::string_view attributes, std::string_view prefix = "phyllome") {
    return fmt::format("<{0}:identity xmlns:{0}='https://phyllo.me/xmlns/shell/1.0' {1}/>", prefix, attributes);
}

GuestIdentity read(std::string_view metadata) {
    return identity_from_domain_xml(domain_with_metadata(metadata), "g");
}

TEST(DomainMetadata, ReadsSlotAndColour) {
    EXPECT_EQ(read(identity("slot='2' colour='#4f9dde'")), (GuestIdentity{2, 0x4f9dde}));
    EXPECT_EQ(read(identity("slot='99'")), (GuestIdentity{99, std::nullopt}));
    EXPECT_EQ(read(identity("colour='#00FF0a'")), (GuestIdentity{std::nullopt, 0x00ff0a}));
}

TEST(DomainMetadata, MatchesTheNamespaceNotThePrefix) {
    EXPECT_EQ(read(identity("slot='1'", "shell")), (GuestIdentity{1, std::nullopt}));
    EXPECT_EQ(read("<identity xmlns='https://phyllo.me/xmlns/shell/1.0' slot='4'/>"),
              (GuestIdentity{4, std::nullopt}));
    EXPECT_EQ(read("<phyllome:identity xmlns:phyllome='https://example.org/other' slot='1'/>"), GuestIdentity{});
    EXPECT_EQ(read("<identity slot='1'/>"), GuestIdentity{}) << "no namespace at all";
}

TEST(DomainMetadata, FindsItAmongOtherProgramsMetadata) {
    EXPECT_EQ(read("<libosinfo:libosinfo xmlns:libosinfo='http://libosinfo.org/xmlns/libvirt/domain/1.0'>"
                   "<libosinfo:os id='http://debian.org/debian/12'/></libosinfo:libosinfo>" +
                   identity("slot='7'")),
              (GuestIdentity{7, std::nullopt}));
}

TEST(DomainMetadata, OnlyInsideDomainMetadata) {
    const std::string in_devices = "<domain><name>g</name><devices>" + identity("slot='2'") + "</devices></domain>";
    EXPECT_EQ(identity_from_domain_xml(in_devices, "g"), GuestIdentity{});
    EXPECT_EQ(identity_from_domain_xml("<domain><name>g</name></domain>", "g"), GuestIdentity{});
    EXPECT_EQ(identity_from_domain_xml("<domain><metadata>", "g"), GuestIdentity{});
    EXPECT_EQ(identity_from_domain_xml("", "g"), GuestIdentity{});
}

TEST(DomainMetadata, InvalidValuesAreIgnoredOneByOne) {
    for (const char* slot : {"0", "100", "-1", "2x", " 2", "", "+3", "1.5", "99999999999"})
        EXPECT_EQ(read(identity(fmt::format("slot='{}' colour='#010203'", slot))),
                  (GuestIdentity{std::nullopt, 0x010203}))
            << "slot=" << slot;
    for (const char* colour : {"4f9dde", "#4f9dd", "#4f9ddee", "#gggggg", "red", "", "#+12345", "#-12345"})
        EXPECT_EQ(read(identity(fmt::format("slot='5' colour='{}'", colour))), (GuestIdentity{5, std::nullopt}))
            << "colour=" << colour;
}

TEST(DomainMetadata, InvalidValuesAreLoggedAtDebugLevel) {
    const config::LogLevel before = log::level();
    log::set_level(config::LogLevel::Debug);
    ::testing::internal::CaptureStderr();
    read(identity("slot='0' colour='teal'"));
    const std::string logged = ::testing::internal::GetCapturedStderr();
    log::set_level(before);
    EXPECT_THAT(logged, ::testing::HasSubstr("debug: guest 'g': ignoring identity slot=\"0\""));
    EXPECT_THAT(logged, ::testing::HasSubstr("debug: guest 'g': ignoring identity colour=\"teal\""));
}

TEST(DomainMetadata, ElementForSetMetadata) {
    EXPECT_EQ(identity_element({2, 0x4f9dde}), "<identity slot=\"2\" colour=\"#4f9dde\"/>");
    EXPECT_EQ(identity_element({std::nullopt, 0x00ff00}), "<identity colour=\"#00ff00\"/>");
    EXPECT_EQ(identity_element({12, std::nullopt}), "<identity slot=\"12\"/>");
    EXPECT_EQ(identity_element({}), "");
}

TEST(DomainMetadata, WrittenElementReadsBack) {
    for (GuestIdentity written :
         {GuestIdentity{1, 0}, GuestIdentity{99, 0xffffff}, GuestIdentity{std::nullopt, 0xabcdef}}) {
        std::string element = identity_element(written);
        element.insert(std::string_view{"<identity"}.size(), " xmlns='https://phyllo.me/xmlns/shell/1.0'");
        EXPECT_EQ(read(element), written) << element;
    }
}

TEST(DomainMetadata, ProblemsWithValuesToWrite) {
    EXPECT_EQ(identity_problem({1, 0xffffff}), "");
    EXPECT_EQ(identity_problem({}), "");
    EXPECT_EQ(identity_problem({0, std::nullopt}), "slot 0 is not from 1 to 99");
    EXPECT_EQ(identity_problem({100, std::nullopt}), "slot 100 is not from 1 to 99");
    EXPECT_EQ(identity_problem({std::nullopt, 0x1000000}), "colour 0x1000000 is not 0xRRGGBB");
}

TEST(DomainMetadata, Colours) {
    EXPECT_EQ(parse_colour("#4f9dde"), 0x4f9ddeu);
    EXPECT_EQ(parse_colour("#4F9DDE"), 0x4f9ddeu);
    EXPECT_EQ(parse_colour("#000000"), 0u);
    EXPECT_EQ(parse_colour("4f9dde"), std::nullopt);
    EXPECT_EQ(format_colour(0x4f9dde), "#4f9dde");
    EXPECT_EQ(format_colour(0x0000ff), "#0000ff");
}

} // namespace
} // namespace phyllome::guestview
