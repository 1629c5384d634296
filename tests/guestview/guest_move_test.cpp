// The parts of a move that read a guest's XML and a libvirt URI, without any host
// (the whole move with two libvirt daemons: guest_move_qemu_test.cpp).
#include "guestview/jobs/guest_move.hpp"

#include <gtest/gtest.h>

#include "guestview/jobs/move_channels.hpp"
#include "guestview/jobs/move_storage.hpp"

namespace phyllome::guestview {
namespace {

constexpr const char* domain_xml = R"(<domain type='kvm'>
  <name>g</name>
  <os><type arch='x86_64' machine='q35'>hvm</type>
    <loader readonly='yes' type='pflash'>/usr/share/OVMF/OVMF_CODE_4M.fd</loader>
    <nvram template='/usr/share/OVMF/OVMF_VARS_4M.fd'>/var/lib/libvirt/qemu/nvram/g_VARS.fd</nvram>
  </os>
  <devices>
    <disk type='file' device='disk'><driver name='qemu' type='qcow2'/>
      <source file='/var/lib/libvirt/images/g.qcow2'/><target dev='vda' bus='virtio'/></disk>
    <disk type='file' device='disk'><driver name='qemu' type='qcow2'/>
      <source file='/var/lib/libvirt/images/secret.qcow2'>
        <encryption format='luks'><secret type='passphrase' uuid='0a81f5b2-8403-7b23-c8d6-21ccc2f80d6f'/></encryption>
      </source><target dev='vdb' bus='virtio'/></disk>
    <disk type='file' device='cdrom'><driver name='qemu' type='raw'/>
      <source file='/home/me/installer.iso'/><target dev='sda' bus='sata'/><readonly/></disk>
    <disk type='file' device='disk'><source file='/srv/shared.img'/><target dev='vdc'/><shareable/></disk>
    <disk type='file' device='disk'><source file='/srv/ro.img'/><target dev='vdd'/><readonly/></disk>
    <disk type='block' device='disk'><source dev='/dev/sdz'/><target dev='vde'/></disk>
    <disk type='file' device='disk'><source file='/srv/plain.img'/><target dev='vdf'/></disk>
    <channel type='qemu-vdagent'><source><clipboard copypaste='yes'/></source>
      <target type='virtio' name='com.redhat.spice.0'/></channel>
    <channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>
  </devices>
</domain>)";

TEST(GuestMove, TheHostOfADestinationUri) {
    EXPECT_EQ(uri_host("qemu+ssh://me@host.example:2222/system"), "host.example");
    EXPECT_EQ(uri_host("qemu+tcp://10.77.0.2/system"), "10.77.0.2");
    EXPECT_EQ(uri_host("qemu+ssh://[fd00::2]:22/system?keyfile=/k"), "fd00::2");
    EXPECT_EQ(uri_host("qemu+ssh://host?no_tty=1"), "host");
    EXPECT_EQ(uri_host("qemu:///system"), "");
    EXPECT_EQ(uri_host("qemu+unix:///system?socket=/run/x"), "");
    EXPECT_EQ(uri_host("nonsense"), "");
}

TEST(GuestMove, SshNeverPromptsOnATerminal) {
    EXPECT_EQ(without_prompts("qemu+ssh://me@host/system"), "qemu+ssh://me@host/system?no_tty=1");
    EXPECT_EQ(without_prompts("qemu+ssh://host/system?keyfile=/k"), "qemu+ssh://host/system?keyfile=/k&no_tty=1");
    // libssh2 and libssh ask through libvirt's auth callbacks, and we give none.
    EXPECT_EQ(without_prompts("qemu+libssh2://host/system"), "qemu+libssh2://host/system");
    EXPECT_EQ(without_prompts("qemu+ssh://host/system?no_tty=0"), "qemu+ssh://host/system?no_tty=0");
    EXPECT_EQ(without_prompts("qemu+tcp://10.77.0.2/system"), "qemu+tcp://10.77.0.2/system");
    EXPECT_EQ(without_prompts("qemu:///system"), "qemu:///system");
}

TEST(GuestMove, OnlyWritableFileDisksAreCopied) {
    const std::vector<MoveDisk> disks = disks_to_move(domain_xml);
    ASSERT_EQ(disks.size(), 3u);
    EXPECT_EQ(disks[0].target, "vda");
    EXPECT_EQ(disks[0].path, "/var/lib/libvirt/images/g.qcow2");
    EXPECT_EQ(disks[0].format, "qcow2");
    EXPECT_FALSE(disks[0].encrypted);
    EXPECT_EQ(disks[1].target, "vdb");
    EXPECT_TRUE(disks[1].encrypted);
    EXPECT_EQ(disks[1].secret_uuid, "0a81f5b2-8403-7b23-c8d6-21ccc2f80d6f");
    EXPECT_TRUE(disks[1].new_secret.empty());
    EXPECT_EQ(disks[2].target, "vdf");
    EXPECT_EQ(disks[2].format, "raw"); // no <driver type>: libvirt's default
}

TEST(GuestMove, TheNvramFile) {
    EXPECT_EQ(nvram_path(domain_xml), "/var/lib/libvirt/qemu/nvram/g_VARS.fd");
    EXPECT_EQ(nvram_path("<domain><os><type>hvm</type></os></domain>"), "");
    EXPECT_EQ(nvram_path("not xml"), "");
}

TEST(GuestMove, TheVdagentChannelIsWhatQemuCannotMigrate) {
    const std::vector<std::string> channels = unmigratable_channels(domain_xml);
    ASSERT_EQ(channels.size(), 1u);
    EXPECT_TRUE(channels[0].starts_with("<channel type=\"qemu-vdagent\">")) << channels[0];
    EXPECT_NE(channels[0].find("com.redhat.spice.0"), std::string::npos) << channels[0];
    EXPECT_TRUE(unmigratable_channels("<domain/>").empty());
    EXPECT_TRUE(disks_to_move("").empty());
}

} // namespace
} // namespace phyllome::guestview
