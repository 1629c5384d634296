// plan_guest against libvirt's test driver: the network a new guest gets follows what the
// connection has, and a plan makes nothing.
#include "guestview/guest_plan.hpp"

#include <filesystem>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <libvirt/libvirt.h>

#include "guestview/libvirt_handles.hpp"
#include "tests/guestview/installer_iso.hpp"
#include "tests/guestview/test_support.hpp"

namespace phyllome::guestview {
namespace {

class GuestPlanTest : public ::testing::Test {
protected:
    void SetUp() override {
        if (!testing::have_program("xorriso"))
            GTEST_SKIP() << "xorriso is missing";
        std::string error;
        iso = testing::make_installer_iso(dir.path(), "disc.iso", {"PHYLLOME_PLAN_DISC", "", "", true}, error);
        ASSERT_FALSE(iso.empty()) << error;
        ASSERT_TRUE(connection) << last_libvirt_error();
    }

    GuestPlan plan() {
        GuestSpec spec;
        spec.name = "planned";
        spec.iso_path = iso;
        spec.disk_dir = dir.path().string();
        return plan_guest(connection.get(), spec, GuestNetwork::LibvirtDefault, nullptr, "no database in this test");
    }

    testing::TempDir dir;
    std::string iso;
    // test:///default is private to its connection: changing it here touches no other test.
    ConnectionPtr connection{virConnectOpen("test:///default")};
};

TEST_F(GuestPlanTest, LibvirtsDefaultNetworkOnlyWhereTheConnectionHasOne) {
    const GuestPlan with = plan();
    EXPECT_EQ(with.problem, "");
    EXPECT_EQ(with.host.network, GuestNetwork::LibvirtDefault) << "the test driver has a 'default' network";

    virNetworkPtr network = virNetworkLookupByName(connection.get(), "default");
    ASSERT_NE(network, nullptr);
    virNetworkDestroy(network);
    ASSERT_EQ(virNetworkUndefine(network), 0) << last_libvirt_error();
    virNetworkFree(network);
    EXPECT_EQ(plan().host.network, GuestNetwork::User) << "no 'default' network: QEMU's own NAT";
}

TEST_F(GuestPlanTest, WithoutTheDatabaseTheSystemIsUnknownAndSaysWhy) {
    const GuestPlan p = plan();
    EXPECT_FALSE(p.os.recognised());
    EXPECT_THAT(p.model.notes, ::testing::Contains("no database in this test"));
    EXPECT_THAT(p.model.notes, ::testing::Contains("unknown system, compatible devices chosen"));
    EXPECT_FALSE(std::filesystem::exists(dir.path() / "planned.qcow2")) << "a plan makes nothing";
    const PlanView view = p.view();
    EXPECT_EQ(view.os_name, "unknown system");
    EXPECT_GT(view.memory_mb, 0);
    EXPECT_GE(view.free_disk_gb, 0);
}

TEST_F(GuestPlanTest, SeveralHeadsAreNamedAmongTheFeatures) {
    GuestPlan p = plan();
    EXPECT_THAT(p.view().features, ::testing::Not(::testing::Contains(::testing::HasSubstr("screens"))));
    p.spec.heads = 2;
    EXPECT_THAT(p.view().features, ::testing::Contains("2 screens"));
    EXPECT_THAT(p.summary(), ::testing::HasSubstr("; 2 screens"));
}

TEST_F(GuestPlanTest, NamingAnOsWithoutTheDatabaseIsRefused) {
    GuestSpec spec;
    spec.name = "planned";
    spec.iso_path = iso;
    spec.disk_dir = dir.path().string();
    spec.os_id = "win11";
    EXPECT_EQ(plan_guest(connection.get(), spec, GuestNetwork::User, nullptr).problem,
              "the operating system database is missing (osinfo-db)")
        << "never a silent unknown system when the user named one";
}

} // namespace
} // namespace phyllome::guestview
