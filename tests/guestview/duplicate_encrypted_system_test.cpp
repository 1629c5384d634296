// duplicate_guest with LUKS disks on the real path: a private system-mode libvirtd
// (system_libvirtd.hpp) whose secret driver keeps the disks' secrets and hands them to QEMU.
// A disk whose secret libvirt gives out is copied under a new secret of the shell's holding
// the same passphrase, and QEMU opens the copy with it; the shell's own private secrets are
// never given out, so such a disk is refused before anything is made. Needs root; skips
// without libvirtd, QEMU or qemu-img. One such daemon at a time: is_parallel: false.
#include "guestview/jobs/guest_duplicate.hpp"

#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <iostream>
#include <optional>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <libvirt/libvirt.h>

#include "guestview/disk_secret.hpp"
#include "guestview/domain_model.hpp"
#include "guestview/guest_removal.hpp"
#include "guestview/libvirt_handles.hpp"
#include "tests/guestview/disk_secret_support.hpp"
#include "tests/guestview/recording_job_context.hpp"
#include "tests/guestview/system_libvirtd.hpp"
#include "tests/guestview/test_support.hpp"

namespace phyllome::guestview {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

constexpr const char* original_name = "phyllome-dup-luks";
constexpr const char* copy_name = "phyllome-dup-luks-copy";
constexpr const char* passphrase = "correct horse battery staple";

class DuplicateEncryptedSystemTest : public ::testing::Test {
protected:
    void SetUp() override {
        const testing::TestStart started = testing::start_for_test(daemon);
        if (!started.skip.empty())
            GTEST_SKIP() << started.skip;
        if (!started.failure.empty())
            FAIL() << started.failure;
        connection.reset(virConnectOpen(daemon->uri().c_str()));
        ASSERT_TRUE(connection) << last_libvirt_error();
    }

    void TearDown() override {
        if (connection)
            for (const char* name : {copy_name, original_name})
                if (DomainPtr domain{virDomainLookupByName(connection.get(), name)}) {
                    virDomainDestroy(domain.get());
                    virResetLastError();
                    EXPECT_EQ(remove_guest_and_disks(connection.get(), name, dir.path().string()), "");
                }
        if (HasFailure() && daemon)
            std::cerr << "libvirtd's log:\n" << daemon->log() << "\nQEMU's log:\n" << daemon->guest_log(copy_name);
        connection.reset();
        daemon.reset();
    }

    std::string disk() const { return (dir.path() / (std::string{original_name} + ".qcow2")).string(); }

    // A guest whose 64 MiB LUKS qcow2 opens with `passphrase`, kept in a secret of the shell's
    // (its description) that is private or not.
    void define_original(bool private_secret) {
        GuestSpec spec;
        spec.name = original_name;
        spec.disk_dir = dir.path().string();
        spec.secret_uuid = "5d3b7c1e-3f0a-4c8e-9b21-6a1d2e3f4a5b";
        std::string secret_xml = phyllome_disk_secret_xml(spec);
        if (!private_secret)
            secret_xml.replace(secret_xml.find("private='yes'"), 13, "private='no'");
        SecretPtr secret{virSecretDefineXML(connection.get(), secret_xml.c_str(), 0)};
        ASSERT_TRUE(secret) << last_libvirt_error();
        ASSERT_EQ(virSecretSetValue(secret.get(), reinterpret_cast<const unsigned char*>(passphrase),
                                    std::strlen(passphrase), 0),
                  0);
        const std::string command =
            fmt::format("qemu-img create -q -f qcow2 --object secret,id=k,data='{}' -o "
                        "encrypt.format=luks,encrypt.key-secret=k,encrypt.iter-time=10 '{}' 64M",
                        passphrase, disk());
        ASSERT_EQ(std::system(command.c_str()), 0);
        // A small BIOS machine: the disk is what counts, and QEMU opens it at start.
        const std::string xml = fmt::format(R"(<domain type='qemu'>
  <name>{}</name>
  <memory unit='MiB'>128</memory>
  <os><type arch='x86_64' machine='q35'>hvm</type></os>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='{}'>
        <encryption format='luks'><secret type='passphrase' uuid='{}'/></encryption>
      </source>
      <target dev='vda' bus='virtio'/>
    </disk>
    <interface type='user'><model type='virtio'/></interface>
    <graphics type='dbus' p2p='yes'/>
  </devices>
</domain>)",
                                            original_name, disk(), spec.secret_uuid);
        ASSERT_TRUE(DomainPtr{virDomainDefineXML(connection.get(), xml.c_str())}) << last_libvirt_error();
    }

    std::optional<testing::SystemLibvirtd> daemon;
    testing::TempDir dir;
    ConnectionPtr connection;
};

TEST_F(DuplicateEncryptedSystemTest, TheCopyKeepsItsKeyUnderASecretOfItsOwn) {
    define_original(false);
    testing::RecordingJobContext job;
    const JobOutcome outcome = duplicate_guest(connection.get(), original_name, copy_name, dir.path().string(), job);
    ASSERT_TRUE(outcome.ok) << outcome.message;

    const std::string copy_disk = (dir.path() / (std::string{copy_name} + ".qcow2")).string();
    EXPECT_THAT(testing::qemu_img_info(copy_disk), HasSubstr("\"encrypted\": true"));
    SecretPtr secret = volume_secret(connection.get(), copy_disk);
    ASSERT_TRUE(secret) << "a secret for the copy's path";
    EXPECT_TRUE(is_shell_disk_secret(secret.get(), copy_name));
    const std::string uuid = testing::secret_uuid(secret.get());
    EXPECT_NE(uuid, "5d3b7c1e-3f0a-4c8e-9b21-6a1d2e3f4a5b");
    DomainPtr copy{virDomainLookupByName(connection.get(), copy_name)};
    ASSERT_TRUE(copy);
    LibvirtString xml{virDomainGetXMLDesc(copy.get(), VIR_DOMAIN_XML_INACTIVE)};
    EXPECT_THAT(xml.get(), HasSubstr("uuid='" + uuid + "'"));

    // QEMU opens the LUKS copy with the new secret's value: the same passphrase.
    ASSERT_EQ(virDomainCreate(copy.get()), 0) << last_libvirt_error();
    EXPECT_EQ(virDomainIsActive(copy.get()), 1);
}

TEST_F(DuplicateEncryptedSystemTest, ACancelLeavesNoCopyDefinitionOrSecret) {
    define_original(false);
    testing::RecordingJobContext job;
    job.cancel();
    const JobOutcome outcome = duplicate_guest(connection.get(), original_name, copy_name, dir.path().string(), job);
    EXPECT_FALSE(outcome.ok);
    EXPECT_TRUE(outcome.cancelled) << outcome.message;
    const std::string copy_disk = (dir.path() / (std::string{copy_name} + ".qcow2")).string();
    EXPECT_FALSE(fs::exists(copy_disk));
    EXPECT_FALSE(volume_secret(connection.get(), copy_disk)) << "no secret for the copy";
    EXPECT_FALSE(DomainPtr{virDomainLookupByName(connection.get(), copy_name)});
    virResetLastError();
    EXPECT_TRUE(volume_secret(connection.get(), disk())) << "the original's secret stays";
}

TEST_F(DuplicateEncryptedSystemTest, ADiskWhoseSecretIsPrivateIsRefusedBeforeAnythingIsMade) {
    define_original(true);
    testing::RecordingJobContext job;
    const JobOutcome outcome = duplicate_guest(connection.get(), original_name, copy_name, dir.path().string(), job);
    EXPECT_FALSE(outcome.ok);
    EXPECT_THAT(outcome.message, HasSubstr("libvirt does not give out its key"));
    EXPECT_THAT(outcome.message, HasSubstr("private"));
    EXPECT_TRUE(job.steps().empty());
    EXPECT_FALSE(fs::exists(dir.path() / (std::string{copy_name} + ".qcow2")));
    EXPECT_FALSE(DomainPtr{virDomainLookupByName(connection.get(), copy_name)});
    virResetLastError();
}

} // namespace
} // namespace phyllome::guestview
