// The <installer> metadata element and the emptied CD-ROM, without libvirt.
#include "guestview/installer_media.hpp"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace phyllome::guestview {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

std::string domain(std::string_view metadata, std::string_view devices = "") {
    return fmt::format("<domain type='kvm'><name>g</name><metadata>{}</metadata><devices>{}</devices></domain>",
                       metadata, devices);
}

std::optional<InstallerMedia> read(std::string_view metadata) {
    return installer_from_domain_xml(domain(metadata), "g");
}

constexpr std::string_view cdrom_with_iso =
    "<disk type='file' device='cdrom'><driver name='qemu' type='raw'/>"
    "<source file='/isos/win11.iso' index='2'/><backingStore/><target dev='sda' bus='sata'/><readonly/>"
    "<alias name='sata0-0-0'/><address type='drive' controller='0' bus='0' target='0' unit='0'/></disk>";
constexpr std::string_view empty_cdrom =
    "<disk type='file' device='cdrom'><target dev='sdb' bus='sata'/><readonly/></disk>";
constexpr std::string_view hard_disk =
    "<disk type='file' device='disk'><source file='/disks/g.qcow2'/><target dev='vda' bus='virtio'/></disk>";

TEST(InstallerMedia, ElementRoundTripsThroughADomainXml) {
    const std::string element = installer_element(2, "sda");
    EXPECT_EQ(element, "<installer xmlns=\"https://phyllo.me/xmlns/shell/installer/1.0\" reboots=\"2\" target=\"sda\"/>");
    EXPECT_EQ(read(element), (InstallerMedia{2, "sda"}));
    EXPECT_EQ(read(installer_element(1, "hdc")), (InstallerMedia{1, "hdc"}));
    EXPECT_EQ(installer_metadata_element(1, "sda"), "<installer reboots=\"1\" target=\"sda\"/>");
}

TEST(InstallerMedia, MatchesTheNamespaceNotThePrefix) {
    EXPECT_EQ(read("<inst:installer xmlns:inst='https://phyllo.me/xmlns/shell/installer/1.0' reboots='3' "
                   "target='sdb'/>"),
              (InstallerMedia{3, "sdb"}));
    EXPECT_EQ(read("<installer xmlns='https://phyllo.me/xmlns/shell/1.0' reboots='1' target='sda'/>"), std::nullopt)
        << "the identity namespace is not the installer's";
    EXPECT_EQ(read("<installer reboots='1' target='sda'/>"), std::nullopt) << "no namespace at all";
}

TEST(InstallerMedia, AbsentWithoutTheElementOrOutsideMetadata) {
    EXPECT_EQ(read(""), std::nullopt);
    EXPECT_EQ(read("<libosinfo:libosinfo xmlns:libosinfo='http://libosinfo.org/xmlns/libvirt/domain/1.0'/>"),
              std::nullopt);
    EXPECT_EQ(installer_from_domain_xml(domain("", installer_element(1, "sda")), "g"), std::nullopt);
    EXPECT_EQ(installer_from_domain_xml("<domain><metadata>", "g"), std::nullopt);
    EXPECT_EQ(installer_from_domain_xml("", "g"), std::nullopt);
}

TEST(InstallerMedia, MalformedValuesAreIgnoredOneByOne) {
    for (const char* reboots : {"0", "-1", "100", "2x", " 1", "", "+1", "1.5", "99999999999"})
        EXPECT_EQ(read(fmt::format("<installer xmlns='{}' reboots='{}' target='sda'/>", installer_namespace, reboots)),
                  (InstallerMedia{std::nullopt, "sda"}))
            << "reboots=" << reboots;
    for (const char* target : {"", "SDA", "s da", "../sda", "1sda", "sd-a", "averyveryverylongtarget"})
        EXPECT_EQ(read(fmt::format("<installer xmlns='{}' reboots='2' target='{}'/>", installer_namespace, target)),
                  (InstallerMedia{2, ""}))
            << "target=" << target;
    EXPECT_EQ(read(fmt::format("<installer xmlns='{}'/>", installer_namespace)), (InstallerMedia{}))
        << "still an installer: a manual eject can remove it";
}

TEST(InstallerMedia, FindsTheCdromsThatHoldMedia) {
    EXPECT_THAT(cdroms_with_media(domain("", fmt::format("{}{}{}", hard_disk, cdrom_with_iso, empty_cdrom))),
                ElementsAre(CdromMedia{"sda", "/isos/win11.iso"}));
    EXPECT_THAT(cdroms_with_media(domain("", empty_cdrom)), ElementsAre());
    EXPECT_THAT(cdroms_with_media("not xml"), ElementsAre());
}

TEST(InstallerMedia, EmptiedCdromKeepsTheDeviceWithoutItsSource) {
    const std::string xml = domain("", fmt::format("{}{}", hard_disk, cdrom_with_iso));
    const std::optional<std::string> emptied = emptied_cdrom_xml(xml, "sda");
    ASSERT_TRUE(emptied);
    EXPECT_THAT(*emptied, HasSubstr("<disk type=\"file\" device=\"cdrom\">"));
    EXPECT_THAT(*emptied, HasSubstr("<target dev=\"sda\" bus=\"sata\"/>"));
    EXPECT_THAT(*emptied, HasSubstr("<address type=\"drive\""));
    EXPECT_THAT(*emptied, Not(HasSubstr("<source")));
    EXPECT_THAT(*emptied, Not(HasSubstr("backingStore")));
    EXPECT_THAT(cdroms_with_media(domain("", *emptied)), ElementsAre()) << "read back: no media";

    EXPECT_EQ(emptied_cdrom_xml(xml, "vda"), std::nullopt) << "a hard disk is no CD-ROM";
    EXPECT_EQ(emptied_cdrom_xml(xml, "sdz"), std::nullopt);
}

TEST(InstallerMedia, TellsTheGuestsOwnResetFromTheHosts) {
    EXPECT_TRUE(reset_by_guest(R"({"guest":true,"reason":"guest-reset"})"));
    EXPECT_TRUE(reset_by_guest(R"({ "reason": "guest-reset", "guest" : true })"));
    EXPECT_FALSE(reset_by_guest(R"({"guest":false,"reason":"host-qmp-system-reset"})"));
    EXPECT_FALSE(reset_by_guest(R"({"reason":"guest-reset"})")) << "no flag: QEMU before 4.0";
    EXPECT_FALSE(reset_by_guest(R"({"guest" true})"));
    EXPECT_FALSE(reset_by_guest(""));
}

} // namespace
} // namespace phyllome::guestview
