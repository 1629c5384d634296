// What a duplicate copies and how its definition differs from the original's
// (guestview/jobs/duplicate_definition.hpp), and the identity it gets (new_identity.hpp).
#include "guestview/jobs/duplicate_definition.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "guestview/domain_metadata.hpp"
#include "guestview/domain_model.hpp"
#include "guestview/jobs/new_identity.hpp"

namespace phyllome::guestview {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* original_xml = R"(<domain type='qemu'>
  <name>win</name>
  <uuid>0b5c6a77-2f5e-4a0e-9d52-1d1b0c1e1a11</uuid>
  <genid>1c1b1a1e-0000-4000-8000-000000000001</genid>
  <metadata>
    <phyllome:identity xmlns:phyllome="https://phyllo.me/xmlns/shell/1.0" slot="2" colour="#4f9dde"/>
  </metadata>
  <os firmware='efi'>
    <type arch='x86_64' machine='pc-q35-10.0'>hvm</type>
    <loader readonly='yes' type='pflash' format='raw'>/usr/share/OVMF/OVMF_CODE_4M.ms.fd</loader>
    <nvram template='/usr/share/OVMF/OVMF_VARS_4M.ms.fd' templateFormat='raw' format='raw'>/var/lib/libvirt/qemu/nvram/win_VARS.fd</nvram>
  </os>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='/images/win.qcow2'>
        <encryption format='luks'>
          <secret type='passphrase' uuid='aaaaaaaa-1111-4111-8111-111111111111'/>
        </encryption>
      </source>
      <target dev='sda' bus='sata'/>
    </disk>
    <disk type='file' device='cdrom'>
      <source file='/isos/Win11.iso'/>
      <target dev='sdb' bus='sata'/>
    </disk>
    <disk type='file' device='disk'>
      <source file='/data/scratch.raw'/>
      <target dev='vdb' bus='virtio'/>
    </disk>
    <disk type='block' device='disk'>
      <source dev='/dev/sdz'/>
      <target dev='vdc' bus='virtio'/>
    </disk>
    <interface type='network'>
      <mac address='52:54:00:11:22:33'/>
      <source network='default'/>
    </interface>
    <interface type='user'>
      <mac address='52:54:00:44:55:66'/>
    </interface>
    <tpm model='tpm-crb'>
      <backend type='emulator' version='2.0'/>
    </tpm>
    <serial type='file'>
      <source path='/var/log/guests/win.serial.log'/>
    </serial>
  </devices>
</domain>
)";

TEST(DuplicateDefinition, TheOriginalsFilesAndWhereTheirCopiesGo) {
    const OriginalGuest original = read_original(original_xml, "win-copy", "/copies");
    ASSERT_EQ(original.error, "");
    ASSERT_EQ(original.files.disks.size(), 2u) << "file disks only: no CD-ROM, no block device";
    EXPECT_EQ(original.files.disks[0].path, "/images/win.qcow2");
    EXPECT_EQ(original.copies[0], "/copies/win-copy.qcow2");
    EXPECT_EQ(original.files.disks[0].secret_uuid, "aaaaaaaa-1111-4111-8111-111111111111");
    EXPECT_EQ(original.files.disks[1].path, "/data/scratch.raw");
    EXPECT_EQ(original.copies[1], "/copies/win-copy-2.raw");
    EXPECT_EQ(original.files.disks[1].secret_uuid, "");
    EXPECT_EQ(original.files.nvram, "/var/lib/libvirt/qemu/nvram/win_VARS.fd");
    EXPECT_TRUE(original.files.tpm_emulator);
    EXPECT_EQ(original.files.tpm_source_dir, "");
}

TEST(DuplicateDefinition, TheCopyHasItsOwnNameUuidMacsDisksSecretsAndNvram) {
    const OriginalGuest original = read_original(original_xml, "win-copy", "/copies");
    std::string error;
    const std::string xml =
        duplicate_xml(original_xml, "win-copy", original, {"bbbbbbbb-2222-4222-8222-222222222222", ""}, error);
    ASSERT_FALSE(xml.empty()) << error;
    EXPECT_THAT(xml, HasSubstr("<name>win-copy</name>"));
    for (const char* gone : {"<uuid>", "<genid>", "52:54:00:11:22:33", "52:54:00:44:55:66", "/images/win.qcow2",
                             "/data/scratch.raw", "aaaaaaaa-1111", "win_VARS.fd", "identity"})
        EXPECT_THAT(xml, Not(HasSubstr(gone)));
    for (const char* kept : {"/copies/win-copy.qcow2", "/copies/win-copy-2.raw", "bbbbbbbb-2222-4222-8222-222222222222",
                             "/isos/Win11.iso", "/dev/sdz", "OVMF_VARS_4M.ms.fd", "<source network=\"default\"/>",
                             "<backend type=\"emulator\" version=\"2.0\"/>",
                             "/var/log/guests/win-copy.serial.log"})
        EXPECT_THAT(xml, HasSubstr(kept));
    EXPECT_EQ(identity_from_domain_xml(xml, "win-copy"), GuestIdentity{});

    const auto paths = guest_files(original_xml, error);
    ASSERT_TRUE(paths) << error;
    EXPECT_EQ(paths->uuid, "0b5c6a77-2f5e-4a0e-9d52-1d1b0c1e1a11");
    EXPECT_EQ(paths->nvram, "/var/lib/libvirt/qemu/nvram/win_VARS.fd");
}

TEST(DuplicateDefinition, AnEncryptedDiskNeedsASecretOfItsOwn) {
    const OriginalGuest original = read_original(original_xml, "win-copy", "/copies");
    std::string error;
    EXPECT_EQ(duplicate_xml(original_xml, "win-copy", original, {"", ""}, error), "");
    EXPECT_THAT(error, HasSubstr("/images/win.qcow2"));
    EXPECT_EQ(read_original("<not-a-domain/>", "x", "/c").error, "its definition is not a libvirt domain");
}

TEST(DuplicateDefinition, TheSecretIsTheShellsForTheNewGuest) {
    const std::string xml = disk_secret_xml("win-copy", "/copies/win-copy.qcow2", "");
    EXPECT_THAT(xml, HasSubstr("private='yes'"));
    // Escaped as a new guest's secret is (domain_model.hpp); libvirt reads it back the same.
    EXPECT_THAT(xml, HasSubstr("<description>LUKS passphrase of win-copy&apos;s disk (phyllome-shell)</description>"));
    EXPECT_THAT(xml, HasSubstr("<volume>/copies/win-copy.qcow2</volume>"));
    EXPECT_THAT(xml, Not(HasSubstr("<uuid>"))) << "libvirt chooses it";
}

TEST(NewIdentity, TheLowestNumberNobodyHoldsAndAFarColour) {
    // Slots 1 and 3 are set; the guest without one is shown as 2; so the new one is 4.
    const std::vector<GuestIdentity> others{{1, 0xd95f5f}, {3, 0x5fd9d9}, {std::nullopt, std::nullopt}};
    const GuestIdentity identity = new_identity(others);
    EXPECT_EQ(identity.slot, 4);
    ASSERT_TRUE(identity.colour);
    EXPECT_NE(*identity.colour, 0xd95f5fu);
    EXPECT_NE(*identity.colour, 0x5fd9d9u);
    EXPECT_EQ(identity_problem(identity), "");

    EXPECT_EQ(new_identity({}).slot, 1);
    std::vector<GuestIdentity> full;
    for (int slot = min_slot; slot <= max_slot; ++slot)
        full.push_back({slot, std::nullopt});
    EXPECT_EQ(new_identity(full).slot, std::nullopt) << "all numbers taken: the shell numbers it after the others";
}

TEST(NewIdentity, ColoursOfTheSamePaletteAreAvoided) {
    std::vector<GuestIdentity> others;
    for (int i = 0; i < 5; ++i)
        others.push_back({std::nullopt, new_identity(others).colour});
    for (std::size_t i = 0; i < others.size(); ++i)
        for (std::size_t j = i + 1; j < others.size(); ++j)
            EXPECT_NE(others[i].colour, others[j].colour) << i << " and " << j;
}

} // namespace
} // namespace phyllome::guestview
