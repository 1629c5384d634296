// libosinfo recognises installers made here with the ids of real ones (Windows 11, Debian,
// Fedora, FreeBSD), tells unknown and broken ones apart, and each recognised OS gets a machine
// model libvirt's schema accepts. Skips without xorriso or osinfo-db.
#include "guestview/os_info.hpp"

#include <filesystem>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "guestview/domain_model.hpp"
#include "tests/guestview/installer_iso.hpp"
#include "tests/guestview/test_support.hpp"

namespace phyllome::guestview {
namespace {

using ::testing::HasSubstr;

class OsInfoTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        std::string error;
        db = OsDatabase::load(error).release();
        load_error = error;
    }
    static void TearDownTestSuite() {
        delete db;
        db = nullptr;
    }

    void SetUp() override {
        if (db == nullptr)
            GTEST_SKIP() << "no osinfo-db: " << load_error;
        if (!testing::have_program("xorriso"))
            GTEST_SKIP() << "xorriso is missing";
    }

    InstallerIdentity identify(const std::string& name, const testing::IsoIds& ids) {
        std::string error;
        const std::string iso = testing::make_installer_iso(dir.path(), name, ids, error);
        EXPECT_FALSE(iso.empty()) << error;
        return db->identify(iso);
    }

    static inline OsDatabase* db = nullptr; // loading takes ~0.3 s: once for the suite
    static inline std::string load_error;
    testing::TempDir dir;
};

TEST_F(OsInfoTest, Windows11IsRecognisedWithItsNeedsAndTwoInstallerRestarts) {
    const InstallerIdentity id = identify("Win11_24H2_English_x64.iso", testing::windows11_ids());
    ASSERT_EQ(id.problem, "");
    ASSERT_TRUE(id.os) << "volume " << id.volume_id;
    EXPECT_EQ(id.os->id, "win11");
    EXPECT_EQ(id.os->name, "Microsoft Windows 11");
    EXPECT_EQ(id.os->family, OsFamily::Windows);
    EXPECT_TRUE(id.os->uefi);
    EXPECT_GE(id.os->minimum.memory_mb, 4096);
    EXPECT_GE(id.os->minimum.disk_gb, 64);
    EXPECT_GE(id.os->minimum.cpus, 2);
    EXPECT_EQ(id.os->installer_reboots, 2);
    EXPECT_FALSE(id.os->virtio_block) << "Windows has no virtio drivers in the box";
}

TEST_F(OsInfoTest, LinuxInstallersAreRecognisedWithTheirVirtioDrivers) {
    const InstallerIdentity debian = identify("debian-12.9.0-amd64-netinst.iso", testing::debian12_ids());
    ASSERT_TRUE(debian.os) << debian.problem << " volume " << debian.volume_id;
    EXPECT_EQ(debian.os->id, "debian12");
    EXPECT_EQ(debian.os->family, OsFamily::Linux);
    EXPECT_TRUE(debian.os->virtio_block);
    EXPECT_TRUE(debian.os->virtio_net);

    const InstallerIdentity fedora = identify("Fedora-Workstation-Live-42.iso", testing::fedora42_ids());
    ASSERT_TRUE(fedora.os) << fedora.problem << " volume " << fedora.volume_id;
    EXPECT_EQ(fedora.os->id, "fedora42");
    EXPECT_EQ(fedora.os->family, OsFamily::Linux);
    EXPECT_TRUE(fedora.os->virtio_gpu);
}

TEST_F(OsInfoTest, FreeBsdIsRecognisedAsBsd) {
    const InstallerIdentity id = identify("FreeBSD-14.2-RELEASE-amd64-disc1.iso", testing::freebsd14_ids());
    ASSERT_TRUE(id.os) << id.problem << " volume " << id.volume_id;
    EXPECT_EQ(id.os->id, "freebsd14.2");
    EXPECT_EQ(id.os->family, OsFamily::Bsd);
    EXPECT_TRUE(id.os->virtio_block);
}

TEST_F(OsInfoTest, AnUnknownInstallerIsNoErrorButNamesItsVolume) {
    const InstallerIdentity id = identify("homebrew.iso", {"MY_OWN_OS_1_0", "", "", true});
    EXPECT_EQ(id.problem, "");
    EXPECT_FALSE(id.os);
    EXPECT_EQ(id.volume_id, "MY_OWN_OS_1_0");
}

TEST_F(OsInfoTest, ADiscThatCannotBootOrIsNoDiscIsRefusedWithAReason) {
    testing::IsoIds data = testing::windows11_ids();
    data.bootable = false;
    EXPECT_THAT(identify("data.iso", data).problem, HasSubstr("not a bootable installer"));
    const auto junk = dir.path() / "junk.iso";
    std::ofstream{junk} << std::string(64 * 1024, 'x');
    const InstallerIdentity id = db->identify(junk.string());
    EXPECT_THAT(id.problem, HasSubstr("not an installer disc image"));
    EXPECT_FALSE(id.os);
    EXPECT_THAT(db->identify((dir.path() / "missing.iso").string()).problem, HasSubstr("missing.iso"));
}

TEST_F(OsInfoTest, AnOsIsFoundByTheShortIdTheUserTypes) {
    const std::optional<OsProfile> win = db->find("win11");
    ASSERT_TRUE(win);
    EXPECT_EQ(win->name, "Microsoft Windows 11");
    EXPECT_EQ(win->installer_reboots, 2);
    EXPECT_TRUE(db->find("debian12"));
    EXPECT_FALSE(db->find("no-such-os"));
}

TEST_F(OsInfoTest, EachRecognisedOsGetsAModelLibvirtAccepts) {
    if (!testing::have_program("virt-xml-validate"))
        GTEST_SKIP() << "virt-xml-validate (libvirt-clients) is missing";
    const std::pair<const char*, testing::IsoIds> installers[] = {{"win11.iso", testing::windows11_ids()},
                                                                  {"debian.iso", testing::debian12_ids()},
                                                                  {"fedora.iso", testing::fedora42_ids()},
                                                                  {"freebsd.iso", testing::freebsd14_ids()}};
    for (const auto& [name, ids] : installers) {
        const InstallerIdentity id = identify(name, ids);
        ASSERT_TRUE(id.os) << name;
        const ModelHost host{GuestNetwork::User, false};
        const MachineModel model = choose_model(*id.os, host);
        ASSERT_EQ(model.problem, "") << name;
        GuestSpec spec;
        spec.name = id.os->id;
        spec.iso_path = (dir.path() / name).string();
        spec.disk_dir = dir.path().string();
        const OsResources sizes = default_resources(*id.os, host);
        spec.memory_mb = sizes.memory_mb;
        spec.cpus = sizes.cpus;
        spec.disk_size_gb = sizes.disk_gb;
        spec.secret_uuid = "6f0f3a1e-1111-4222-8333-944455556666";
        EXPECT_EQ(testing::virt_xml_validate(dir.path(), phyllome_domain_xml(spec, model, host, *id.os)), "") << name;
    }
}

} // namespace
} // namespace phyllome::guestview

namespace phyllome::guestview {
namespace {

// The agent drops the ~55 MB database a minute after its last use; the next use loads it again.
TEST(LazyOsDatabase, LoadsOnFirstUseAndAgainAfterARelease) {
    LazyOsDatabase lazy;
    const OsDatabase* first = lazy.get();
    if (first == nullptr)
        GTEST_SKIP() << "no osinfo-db: " << lazy.error();
    EXPECT_EQ(lazy.get(), first) << "kept while in use";
    lazy.release();
    const OsDatabase* again = lazy.get();
    ASSERT_NE(again, nullptr);
    EXPECT_TRUE(again->find("win11"));
    lazy.release();
    lazy.release(); // twice is harmless
}

} // namespace
} // namespace phyllome::guestview
