// The shell's disk secrets against a real libvirt secret driver: secret:///embed (its own root,
// no daemon) keeps them, beside libvirt's test driver for the domains, and real qemu-img makes
// the disks. Neither the test driver nor qemu:///embed keeps secrets (libvirt 11.3), which is
// what create_guest's `secrets` connection is for. Skips without qemu-img.
#include "guestview/disk_secret.hpp"
#include "guestview/guest_plan.hpp"

#include <filesystem>
#include <fstream>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "guestview/domain_model.hpp"
#include "guestview/libvirt_event_bridge.hpp"
#include "tests/guestview/disk_secret_support.hpp"

namespace phyllome::guestview {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using testing::qemu_img_info;
using testing::secret_uuid;

constexpr const char* stale_uuid = "0d9c2a1e-5b4f-4e3a-8c7d-6f5e4d3c2b1a";

class DiskSecretTest : public ::testing::Test {
protected:
    void SetUp() override {
        if (!testing::qemu_img_available())
            GTEST_SKIP() << "qemu-img (qemu-utils) is missing";
        ASSERT_TRUE(domains) << last_libvirt_error();
        ASSERT_TRUE(secrets) << "secret:///embed: " << last_libvirt_error();
    }

    void TearDown() override {
        // test:///default is one state for the whole process: leave no guest behind.
        if (domains)
            if (DomainPtr domain{virDomainLookupByName(domains.get(), name.c_str())}) {
                virDomainUndefine(domain.get());
            }
        virResetLastError();
    }

    GuestSpec spec() const {
        GuestSpec spec;
        spec.name = name;
        spec.iso_path = iso.string();
        spec.disk_size_gb = 1;
        spec.disk_dir = dir.path().string();
        spec.allow_kvm = false;
        return spec;
    }

    std::string disk_path() const { return (dir.path() / (name + ".qcow2")).string(); }

    // A secret for the disk's path, as a shell run before the guest's removal with virsh left it.
    void define_stale_secret() {
        const std::string xml = fmt::format(
            "<secret ephemeral='no' private='yes'><uuid>{}</uuid>"
            "<description>LUKS passphrase of {}'s disk (phyllome-shell)</description>"
            "<usage type='volume'><volume>{}</volume></usage></secret>",
            stale_uuid, name, disk_path());
        SecretPtr stale{virSecretDefineXML(secrets.get(), xml.c_str(), 0)};
        ASSERT_TRUE(stale) << last_libvirt_error();
    }

    CreateOutcome create(virConnectPtr secret_connection) {
        return testing::run_blocking<CreateOutcome>(
            loop.get(), [&] { return create_guest(domains.get(), plan_guest(domains.get(), spec(), GuestNetwork::User, nullptr), secret_connection); });
    }

    static void SetUpTestSuite() {
        loop = testing::make_loop();
        bridge = LibvirtEventBridge::attach(loop.get());
        secret_root = std::make_unique<testing::TempDir>();
        domains.reset(virConnectOpen("test:///default"));
        const std::string uri = "secret:///embed?root=" + secret_root->path().string();
        secrets.reset(virConnectOpen(uri.c_str()));
    }
    static void TearDownTestSuite() {
        secrets.reset();
        domains.reset();
        secret_root.reset();
        bridge.reset();
        loop.reset();
    }

    // One embedded secret driver per process: libvirt starts its state once.
    static inline testing::LoopPtr loop;
    static inline std::shared_ptr<LibvirtEventBridge> bridge;
    static inline std::unique_ptr<testing::TempDir> secret_root;
    static inline ConnectionPtr domains;
    static inline ConnectionPtr secrets;

    testing::TempDir dir;
    std::filesystem::path iso = [this] {
        std::ofstream{dir.path() / "installer.iso"} << "not really an installer";
        return dir.path() / "installer.iso";
    }();
    std::string name = std::string{"secret-test-"} + ::testing::UnitTest::GetInstance()->current_test_info()->name();
};

TEST_F(DiskSecretTest, TheDiskIsLuksEncryptedWithTheShellsSecret) {
    const CreateOutcome outcome = create(secrets.get());
    ASSERT_TRUE(outcome.ok) << outcome.message;
    EXPECT_THAT(outcome.message, Not(HasSubstr("not encrypted")));

    const std::string info = qemu_img_info(disk_path());
    EXPECT_THAT(info, HasSubstr("\"encrypted\": true"));
    EXPECT_THAT(info, HasSubstr("\"format\": \"luks\"")) << info;

    SecretPtr secret = volume_secret(secrets.get(), disk_path());
    ASSERT_TRUE(secret) << "the secret is found by the disk's path";
    EXPECT_TRUE(is_shell_disk_secret(secret.get(), name));
    EXPECT_FALSE(is_shell_disk_secret(secret.get(), name + "-other"));
    DomainPtr domain{virDomainLookupByName(domains.get(), name.c_str())};
    ASSERT_TRUE(domain);
    LibvirtString xml{virDomainGetXMLDesc(domain.get(), 0)};
    EXPECT_THAT(xml.get(), HasSubstr(secret_uuid(secret.get()))) << "the disk names its secret";
}

TEST_F(DiskSecretTest, ALeftoverSecretOfAMissingDiskIsReplaced) {
    define_stale_secret();
    ASSERT_FALSE(std::filesystem::exists(disk_path()));

    const CreateOutcome outcome = create(secrets.get());
    ASSERT_TRUE(outcome.ok) << outcome.message;
    SecretPtr old{virSecretLookupByUUIDString(secrets.get(), stale_uuid)};
    EXPECT_FALSE(old) << "the leftover secret is undefined";
    virResetLastError();
    SecretPtr now = volume_secret(secrets.get(), disk_path());
    ASSERT_TRUE(now);
    EXPECT_NE(secret_uuid(now.get()), stale_uuid);
    EXPECT_THAT(qemu_img_info(disk_path()), HasSubstr("\"encrypted\": true"));
}

TEST_F(DiskSecretTest, TheSecretOfAnExistingDiskStays) {
    define_stale_secret();
    std::ofstream{disk_path()} << "someone's disk";

    const CreateOutcome outcome = create(secrets.get());
    EXPECT_FALSE(outcome.ok);
    EXPECT_THAT(outcome.message, HasSubstr("exists already"));
    SecretPtr old{virSecretLookupByUUIDString(secrets.get(), stale_uuid)};
    EXPECT_TRUE(old) << "a disk is there: its secret is not a leftover";
    std::ifstream in{disk_path()};
    EXPECT_EQ(std::string(std::istreambuf_iterator<char>{in}, {}), "someone's disk");
}

TEST_F(DiskSecretTest, AConnectionWithoutSecretsMakesAPlainDiskAndSaysSo) {
    const CreateOutcome outcome = create(nullptr); // the test driver keeps no secrets
    ASSERT_TRUE(outcome.ok) << outcome.message;
    EXPECT_THAT(outcome.message, HasSubstr("the disk is not encrypted"));
    const std::string info = qemu_img_info(disk_path());
    ASSERT_THAT(info, HasSubstr("\"format\": \"qcow2\""));
    EXPECT_THAT(info, Not(HasSubstr("\"encrypted\": true")));
}

} // namespace
} // namespace phyllome::guestview
