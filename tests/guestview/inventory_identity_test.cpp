// Guest identity (slot, colour) in libvirt metadata, against libvirt's test driver.
#include "guestview/inventory.hpp"

#include <fstream>

#include <fmt/format.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <libvirt/libvirt.h>

#include "guestview/libvirt_handles.hpp"
#include "tests/guestview/test_support.hpp"

namespace phyllome::guestview {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::LoopPtr;
using testing::make_loop;
using testing::pump_until;
using testing::TempDir;

std::string test_domain(std::string_view name, std::string_view metadata = "") {
    return fmt::format("<domain type='test'><name>{}</name><memory>65536</memory><os><type>hvm</type></os>"
                       "<metadata>{}</metadata></domain>",
                       name, metadata);
}

// The test driver starts the domains of a node file; this one it leaves shut off.
std::string shut_off_test_domain(std::string_view name) {
    return fmt::format("<domain type='test' xmlns:test='http://libvirt.org/schemas/domain/test/1.0'>"
                       "<name>{}</name><memory>65536</memory><os><type>hvm</type></os>"
                       "<test:runstate>5</test:runstate></domain>",
                       name);
}

std::string identity(std::string_view attributes) {
    return fmt::format("<phyllome:identity xmlns:phyllome='https://phyllo.me/xmlns/shell/1.0' {}/>", attributes);
}

class InventoryIdentityTest : public ::testing::Test {
protected:
    void open(std::string uri) {
        inventory = std::make_unique<Inventory>(loop.get(), std::move(uri),
                                                Inventory::Callbacks{[this] { ++changes; }, {}});
        ASSERT_EQ(inventory->status().state, ConnectionState::Connected) << inventory->status().error;
        ASSERT_TRUE(pump_until(loop.get(), [&] { return changes > 0; })); // the first announcement
    }

    // A node file for the test driver holding `domains`.
    void open_with(const std::vector<std::string>& domains) {
        std::ofstream file{node_file};
        file << "<node>";
        for (const std::string& domain : domains)
            file << domain;
        file << "</node>";
        file.close();
        open("test://" + node_file.string());
    }

    struct Done {
        bool called = false;
        bool ok = false;
        std::string error;
        std::vector<std::string> names_when_done; // guests() as `done` saw it
    };

    Done set(const std::string& guest, std::optional<int> slot, std::optional<std::uint32_t> colour) {
        auto done = std::make_shared<Done>();
        inventory->set_identity(guest, slot, colour, [this, done](bool ok, std::string error) {
            *done = {true, ok, std::move(error), names()};
        });
        EXPECT_FALSE(done->called) << "done must run from the loop, not inside set_identity()";
        EXPECT_TRUE(pump_until(loop.get(), [&] { return done->called; }));
        return *done;
    }

    std::vector<std::string> names() const {
        std::vector<std::string> result;
        for (const GuestInfo& guest : inventory->guests())
            result.push_back(guest.name);
        return result;
    }

    std::string metadata_of(const std::string& guest, unsigned flags) const {
        DomainPtr domain{virDomainLookupByName(inventory->connection(), guest.c_str())};
        if (!domain)
            return "no domain";
        LibvirtString text{virDomainGetMetadata(domain.get(), VIR_DOMAIN_METADATA_ELEMENT,
                                                std::string{identity_namespace}.c_str(), flags)};
        return text ? std::string{text.get()} : std::string{};
    }

    TempDir dir;
    std::filesystem::path node_file = dir.path() / "node.xml";
    LoopPtr loop = make_loop();
    int changes = 0;
    std::unique_ptr<Inventory> inventory;
};

TEST_F(InventoryIdentityTest, ReadsSlotAndColourFromMetadata) {
    open_with({test_domain("alpha", identity("slot='2' colour='#4f9dde'")), test_domain("beta")});
    const GuestInfo* alpha = inventory->find("alpha");
    ASSERT_NE(alpha, nullptr);
    EXPECT_EQ(alpha->slot, 2);
    EXPECT_EQ(alpha->colour, 0x4f9ddeu);
    const GuestInfo* beta = inventory->find("beta");
    ASSERT_NE(beta, nullptr);
    EXPECT_EQ(beta->slot, std::nullopt);
    EXPECT_EQ(beta->colour, std::nullopt);
}

TEST_F(InventoryIdentityTest, SlottedGuestsComeFirstBySlotThenTheRestByName) {
    open_with({
        test_domain("alpha"),
        test_domain("beta", identity("slot='2'")),
        test_domain("gamma", identity("slot='1' colour='#000000'")),
        test_domain("delta", identity("slot='2'")),
        test_domain("aardvark", identity("colour='#ffffff'")),
        test_domain("epsilon", identity("slot='12'")),
    });
    EXPECT_THAT(names(), ElementsAre("gamma", "beta", "delta", "epsilon", "aardvark", "alpha"));
}

TEST_F(InventoryIdentityTest, InvalidValuesAreIgnored) {
    open_with({
        test_domain("alpha", identity("slot='0' colour='#4f9dde'")),
        test_domain("beta", identity("slot='3' colour='blue'")),
        test_domain("gamma", identity("slot='100'")),
        test_domain("delta", "<phyllome:identity xmlns:phyllome='https://example.org/not-ours' slot='1'/>"),
    });
    EXPECT_THAT(names(), ElementsAre("beta", "alpha", "delta", "gamma"));
    EXPECT_EQ(inventory->find("alpha")->slot, std::nullopt);
    EXPECT_EQ(inventory->find("alpha")->colour, 0x4f9ddeu);
    EXPECT_EQ(inventory->find("beta")->slot, 3);
    EXPECT_EQ(inventory->find("beta")->colour, std::nullopt);
    EXPECT_EQ(inventory->find("gamma")->slot, std::nullopt);
    EXPECT_EQ(inventory->find("delta")->slot, std::nullopt);
}

TEST_F(InventoryIdentityTest, SetIdentityOnARunningGuestRoundTrips) {
    open("test:///default");
    ASSERT_EQ(inventory->find("test")->state, GuestState::Running);
    const int changes_before = changes;

    Done done = set("test", 3, 0x123456);
    EXPECT_TRUE(done.ok) << done.error;
    EXPECT_EQ(done.error, "");
    EXPECT_GT(changes, changes_before) << "`changed` fires for the new identity";
    EXPECT_EQ(inventory->find("test")->slot, 3);
    EXPECT_EQ(inventory->find("test")->colour, 0x123456u);

    // Both the running guest and its persistent definition carry it.
    EXPECT_THAT(metadata_of("test", VIR_DOMAIN_AFFECT_LIVE), HasSubstr("slot=\"3\""));
    EXPECT_THAT(metadata_of("test", VIR_DOMAIN_AFFECT_LIVE), HasSubstr("colour=\"#123456\""));
    EXPECT_THAT(metadata_of("test", VIR_DOMAIN_AFFECT_CONFIG), HasSubstr("slot=\"3\""));

    const int changes_after_set = changes;
    done = set("test", std::nullopt, std::nullopt);
    EXPECT_TRUE(done.ok) << done.error;
    EXPECT_GT(changes, changes_after_set);
    EXPECT_EQ(inventory->find("test")->slot, std::nullopt);
    EXPECT_EQ(inventory->find("test")->colour, std::nullopt);
    EXPECT_EQ(metadata_of("test", VIR_DOMAIN_AFFECT_LIVE), "") << "both unset removes the element";
    EXPECT_EQ(metadata_of("test", VIR_DOMAIN_AFFECT_CONFIG), "");
}

TEST_F(InventoryIdentityTest, SetIdentityOnATransientGuestWritesOnlyTheLiveOne) {
    open("test:///default");
    DomainPtr transient{virDomainCreateXML(inventory->connection(), test_domain("passing").c_str(), 0)};
    ASSERT_TRUE(transient) << last_libvirt_error();
    ASSERT_EQ(virDomainIsPersistent(transient.get()), 0);
    ASSERT_TRUE(pump_until(loop.get(), [&] { return inventory->find("passing") != nullptr; }));

    Done done = set("passing", 1, 0x00ff00);
    ASSERT_TRUE(done.ok) << done.error;
    EXPECT_EQ(inventory->find("passing")->slot, 1);
    EXPECT_EQ(inventory->find("passing")->colour, 0x00ff00u);
    EXPECT_THAT(names(), ElementsAre("passing", "test"));
}

TEST_F(InventoryIdentityTest, SetIdentityReordersBeforeDoneRuns) {
    open_with({test_domain("alpha"), shut_off_test_domain("beta"), test_domain("gamma", identity("slot='5'"))});
    ASSERT_EQ(inventory->find("beta")->state, GuestState::ShutOff);
    EXPECT_THAT(names(), ElementsAre("gamma", "alpha", "beta"));

    Done done = set("beta", 1, std::nullopt);
    ASSERT_TRUE(done.ok) << done.error;
    EXPECT_THAT(done.names_when_done, ElementsAre("beta", "gamma", "alpha"));
    EXPECT_THAT(metadata_of("beta", VIR_DOMAIN_AFFECT_CONFIG), HasSubstr("slot=\"1\"")) << "config only: not running";

    done = set("gamma", std::nullopt, 0xff0000);
    ASSERT_TRUE(done.ok) << done.error;
    EXPECT_THAT(names(), ElementsAre("beta", "alpha", "gamma"));
    EXPECT_EQ(inventory->find("gamma")->colour, 0xff0000u);
}

TEST_F(InventoryIdentityTest, ChangesMadeElsewhereArriveThroughMetadataEvents) {
    open_with({test_domain("alpha"), test_domain("beta")});
    DomainPtr domain{virDomainLookupByName(inventory->connection(), "beta")};
    ASSERT_TRUE(domain);
    const int changes_before = changes;
    // Like `virsh metadata`: bypasses set_identity(), so only the event can tell the inventory.
    ASSERT_EQ(virDomainSetMetadata(domain.get(), VIR_DOMAIN_METADATA_ELEMENT, "<identity slot='4' colour='#abcdef'/>",
                                   "shell", std::string{identity_namespace}.c_str(),
                                   VIR_DOMAIN_AFFECT_LIVE | VIR_DOMAIN_AFFECT_CONFIG),
              0)
        << last_libvirt_error();
    ASSERT_TRUE(pump_until(loop.get(), [&] { return inventory->find("beta")->slot == 4; }));
    EXPECT_EQ(inventory->find("beta")->colour, 0xabcdefu);
    EXPECT_THAT(names(), ElementsAre("beta", "alpha"));
    EXPECT_GT(changes, changes_before);

    // Other programs' metadata changes nothing of ours.
    const int changes_after = changes;
    ASSERT_EQ(virDomainSetMetadata(domain.get(), VIR_DOMAIN_METADATA_ELEMENT, "<thing/>", "other",
                                   "https://example.org/other", VIR_DOMAIN_AFFECT_LIVE),
              0);
    testing::pump_for(loop.get(), std::chrono::milliseconds{200});
    EXPECT_EQ(changes, changes_after);
}

TEST_F(InventoryIdentityTest, DefiningAGuestReadsItsIdentity) {
    open_with({test_domain("alpha")});
    // One uuid, so the second definition replaces the first.
    auto zeta = [](std::string_view metadata) {
        return fmt::format("<domain type='test'><name>zeta</name><uuid>2c2fd8c4-6d36-4c4f-9a57-4d2a4b6b2d11</uuid>"
                           "<memory>65536</memory><os><type>hvm</type></os><metadata>{}</metadata></domain>",
                           metadata);
    };
    DomainPtr defined{virDomainDefineXML(inventory->connection(), zeta(identity("slot='9'")).c_str())};
    ASSERT_TRUE(defined) << last_libvirt_error();
    ASSERT_TRUE(pump_until(loop.get(), [&] { return inventory->find("zeta") != nullptr; }));
    EXPECT_EQ(inventory->find("zeta")->slot, 9);
    EXPECT_THAT(names(), ElementsAre("zeta", "alpha"));

    // Redefined without it: the identity goes, and so does the place.
    DomainPtr redefined{virDomainDefineXML(inventory->connection(), zeta("").c_str())};
    ASSERT_TRUE(redefined) << last_libvirt_error();
    ASSERT_TRUE(pump_until(loop.get(), [&] { return !inventory->find("zeta")->slot; }));
    EXPECT_THAT(names(), ElementsAre("alpha", "zeta"));
}

TEST_F(InventoryIdentityTest, BadRequestsFailFromTheLoop) {
    open("test:///default");
    Done unknown = set("no-such-guest", 1, std::nullopt);
    EXPECT_FALSE(unknown.ok);
    EXPECT_THAT(unknown.error, HasSubstr("no guest named 'no-such-guest'"));

    for (int slot : {0, 100, -3}) {
        Done bad_slot = set("test", slot, std::nullopt);
        EXPECT_FALSE(bad_slot.ok);
        EXPECT_THAT(bad_slot.error, HasSubstr("is not from 1 to 99"));
    }
    Done bad_colour = set("test", 1, 0x1000000);
    EXPECT_FALSE(bad_colour.ok);
    EXPECT_THAT(bad_colour.error, HasSubstr("0xRRGGBB"));
    EXPECT_EQ(inventory->find("test")->slot, std::nullopt) << "nothing was written";
    EXPECT_EQ(metadata_of("test", VIR_DOMAIN_AFFECT_CONFIG), "");
}

TEST_F(InventoryIdentityTest, NotConnectedFailsFromTheLoop) {
    inventory = std::make_unique<Inventory>(loop.get(), "qemu+unix:///system?socket=/nonexistent/sock",
                                            Inventory::Callbacks{});
    Done done = set("test", 1, std::nullopt);
    EXPECT_FALSE(done.ok);
    EXPECT_THAT(done.error, HasSubstr("not connected"));
}

} // namespace
} // namespace phyllome::guestview
