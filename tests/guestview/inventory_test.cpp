// The inventory against libvirt's real test driver (in-process, no daemon needed).
#include "guestview/inventory.hpp"

#include <fstream>
#include <optional>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <libvirt/libvirt.h>

#include "guestview/libvirt_handles.hpp"
#include "tests/guestview/test_support.hpp"

namespace phyllome::guestview {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using testing::LoopPtr;
using testing::make_loop;
using testing::pump_until;
using testing::TempDir;

constexpr const char* default_test_uri = "test:///default";

class InventoryTest : public ::testing::Test {
protected:
    void open(std::string uri) {
        inventory = std::make_unique<Inventory>(
            loop.get(), std::move(uri),
            Inventory::Callbacks{[this] { ++changes; },
                                 [this](const ActionResult& result) { results.push_back(result); }});
    }

    // Requests `action` and pumps until its result arrives.
    ActionResult run(Action action, const std::string& guest) {
        const std::size_t before = results.size();
        inventory->request(action, guest);
        EXPECT_EQ(results.size(), before) << "results must arrive from the loop, not inside request()";
        EXPECT_TRUE(pump_until(loop.get(), [&] { return results.size() > before; }));
        return results.size() > before ? results.back() : ActionResult{action, guest, false, "timed out"};
    }

    std::optional<GuestState> state_of(const std::string& name) const {
        const GuestInfo* guest = inventory->find(name);
        return guest ? std::optional{guest->state} : std::nullopt;
    }

    bool wait_for_state(const std::string& name, GuestState state) {
        return pump_until(loop.get(), [&] { return state_of(name) == state; });
    }

    LoopPtr loop = make_loop();
    int changes = 0;
    std::vector<ActionResult> results;
    std::unique_ptr<Inventory> inventory; // after the loop: destroyed first
};

TEST_F(InventoryTest, ListsTheTestDriversRunningGuest) {
    open(default_test_uri);
    EXPECT_EQ(inventory->status().state, ConnectionState::Connected);
    EXPECT_EQ(inventory->status().uri, default_test_uri);
    EXPECT_NE(inventory->connection(), nullptr);
    ASSERT_EQ(inventory->guests().size(), 1u);
    const GuestInfo& guest = inventory->guests().front();
    EXPECT_EQ(guest.name, "test");
    EXPECT_EQ(guest.uuid.size(), 36u);
    EXPECT_EQ(guest.state, GuestState::Running);
    EXPECT_EQ(guest.state_reason, "running"); // the test driver gives no reason for its default guest
    EXPECT_EQ(inventory->find("test"), &guest);
    EXPECT_EQ(inventory->find("nope"), nullptr);

    EXPECT_EQ(changes, 0) << "no callback from inside the constructor";
    ASSERT_TRUE(pump_until(loop.get(), [&] { return changes > 0; })) << "the first state is announced";
}

TEST_F(InventoryTest, ShutdownAndStartChangeStateAndReport) {
    open(default_test_uri);
    ASSERT_EQ(state_of("test"), GuestState::Running);
    ASSERT_TRUE(pump_until(loop.get(), [&] { return changes > 0; }));
    const int changes_before = changes;

    ActionResult shutdown = run(Action::Shutdown, "test");
    EXPECT_TRUE(shutdown.ok) << shutdown.error;
    EXPECT_EQ(shutdown.action, Action::Shutdown);
    EXPECT_EQ(shutdown.guest, "test");
    ASSERT_TRUE(wait_for_state("test", GuestState::ShutOff));
    EXPECT_EQ(inventory->find("test")->state_reason, "shut off: shutdown");
    EXPECT_GT(changes, changes_before);

    const int changes_after_shutdown = changes;
    ActionResult start = run(Action::Start, "test");
    EXPECT_TRUE(start.ok) << start.error;
    ASSERT_TRUE(wait_for_state("test", GuestState::Running));
    EXPECT_EQ(inventory->find("test")->state_reason, "running: booted");
    EXPECT_GT(changes, changes_after_shutdown);
}

TEST_F(InventoryTest, ForceOffReportsDestroyed) {
    open(default_test_uri);
    ActionResult result = run(Action::ForceOff, "test");
    EXPECT_TRUE(result.ok) << result.error;
    ASSERT_TRUE(wait_for_state("test", GuestState::ShutOff));
    EXPECT_EQ(inventory->find("test")->state_reason, "shut off: destroyed");
}

TEST_F(InventoryTest, LibvirtsRefusalIsReported) {
    open(default_test_uri);
    ASSERT_EQ(state_of("test"), GuestState::Running);
    ActionResult result = run(Action::Start, "test");
    EXPECT_FALSE(result.ok);
    EXPECT_THAT(result.error, HasSubstr("already running"));
}

TEST_F(InventoryTest, UnknownGuestFailsFromTheLoop) {
    open(default_test_uri);
    ActionResult result = run(Action::Start, "no-such-guest");
    EXPECT_FALSE(result.ok);
    EXPECT_EQ(result.guest, "no-such-guest");
    EXPECT_THAT(result.error, HasSubstr("no guest named 'no-such-guest'"));
}

TEST_F(InventoryTest, ChangesMadeElsewhereArriveThroughLifecycleEvents) {
    open(default_test_uri);
    // Bypasses request(): only the lifecycle event can tell the inventory.
    DomainPtr domain{virDomainLookupByName(inventory->connection(), "test")};
    ASSERT_TRUE(domain);
    ASSERT_EQ(virDomainDestroy(domain.get()), 0);
    ASSERT_TRUE(wait_for_state("test", GuestState::ShutOff));
    EXPECT_EQ(inventory->find("test")->state_reason, "shut off: destroyed");

    DomainPtr defined{virDomainDefineXML(inventory->connection(),
                                         "<domain type='test'><name>zeta</name><memory>65536</memory>"
                                         "<os><type>hvm</type></os><devices>"
                                         "<graphics type='dbus' p2p='yes'/></devices></domain>")};
    ASSERT_TRUE(defined) << last_libvirt_error();
    ASSERT_TRUE(pump_until(loop.get(), [&] { return inventory->find("zeta") != nullptr; }));
    EXPECT_EQ(inventory->find("zeta")->state, GuestState::ShutOff);
    EXPECT_EQ(inventory->find("zeta")->graphics, GraphicsSupport::DbusP2P);
    ASSERT_EQ(inventory->guests().size(), 2u);
    EXPECT_EQ(inventory->guests()[0].name, "test");
    EXPECT_EQ(inventory->guests()[1].name, "zeta");

    ASSERT_EQ(virDomainUndefine(defined.get()), 0);
    ASSERT_TRUE(pump_until(loop.get(), [&] { return inventory->find("zeta") == nullptr; }));
}

TEST_F(InventoryTest, UnreachableDaemonFailsAndRetriesWithGrowingBackoff) {
    const std::string uri = "qemu+unix:///system?socket=/nonexistent/sock";
    open(uri);
    EXPECT_EQ(inventory->status().state, ConnectionState::Failed);
    EXPECT_EQ(inventory->status().uri, uri);
    EXPECT_THAT(inventory->status().error, HasSubstr("/nonexistent/sock"));
    EXPECT_EQ(inventory->status().retry_in, 1000ms);
    EXPECT_EQ(inventory->connection(), nullptr);
    EXPECT_THAT(inventory->guests(), IsEmpty());

    ASSERT_TRUE(pump_until(loop.get(), [&] { return changes > 0; }));
    const int changes_before_retry = changes;
    ASSERT_TRUE(pump_until(loop.get(), [&] { return inventory->status().retry_in == 2000ms; }, 5s))
        << "the second attempt fails too and doubles the delay";
    EXPECT_EQ(inventory->status().state, ConnectionState::Failed);
    EXPECT_GT(changes, changes_before_retry);

    ActionResult result = run(Action::Start, "test");
    EXPECT_FALSE(result.ok);
    EXPECT_THAT(result.error, HasSubstr("not connected"));
}

TEST_F(InventoryTest, ConnectsOnRetryOnceLibvirtIsThere) {
    TempDir dir;
    const auto node_file = dir.path() / "later.xml";
    open("test://" + node_file.string());
    EXPECT_EQ(inventory->status().state, ConnectionState::Failed);
    EXPECT_THAT(inventory->status().error, Not(IsEmpty()));
    EXPECT_EQ(inventory->status().retry_in, 1000ms);
    ASSERT_TRUE(pump_until(loop.get(), [&] { return changes > 0; }));
    const int changes_while_failed = changes;

    std::ofstream{node_file} << "<node><domain type='test'><name>late</name><memory>65536</memory>"
                                "<os><type>hvm</type></os></domain></node>";
    ASSERT_TRUE(pump_until(loop.get(), [&] { return inventory->status().state == ConnectionState::Connected; }, 5s));
    EXPECT_THAT(inventory->status().error, IsEmpty());
    EXPECT_EQ(inventory->status().retry_in, 0ms);
    EXPECT_NE(inventory->connection(), nullptr);
    EXPECT_NE(inventory->find("late"), nullptr);
    EXPECT_GT(changes, changes_while_failed);
}

TEST_F(InventoryTest, DetectsGraphicsFromDomainXml) {
    TempDir dir;
    const auto node_file = dir.path() / "node.xml";
    std::ofstream{node_file} << R"(<node>
  <domain type='test'>
    <name>gamma-none</name><memory>65536</memory><os><type>hvm</type></os>
    <devices/>
  </domain>
  <domain type='test'>
    <name>alpha-dbus</name><memory>65536</memory><os><type>hvm</type></os>
    <devices><graphics type='spice'/><graphics type='dbus' p2p='yes'/></devices>
  </domain>
  <domain type='test'>
    <name>beta-spice</name><memory>65536</memory><os><type>hvm</type></os>
    <devices><graphics type='spice'/></devices>
  </domain>
  <domain type='test'>
    <name>delta-dbus-bus</name><memory>65536</memory><os><type>hvm</type></os>
    <devices><graphics type='dbus'/></devices>
  </domain>
</node>
)";
    open("test://" + node_file.string());
    ASSERT_EQ(inventory->status().state, ConnectionState::Connected) << inventory->status().error;

    std::vector<std::string> names;
    for (const auto& guest : inventory->guests())
        names.push_back(guest.name);
    EXPECT_THAT(names, ::testing::ElementsAre("alpha-dbus", "beta-spice", "delta-dbus-bus", "gamma-none"));

    const GuestInfo* dbus = inventory->find("alpha-dbus");
    ASSERT_NE(dbus, nullptr);
    EXPECT_EQ(dbus->graphics, GraphicsSupport::DbusP2P);
    EXPECT_EQ(dbus->dbus_graphics_index, 1);
    EXPECT_THAT(dbus->graphics_note, IsEmpty());

    const GuestInfo* spice = inventory->find("beta-spice");
    ASSERT_NE(spice, nullptr);
    EXPECT_EQ(spice->graphics, GraphicsSupport::Unsupported);
    EXPECT_EQ(spice->dbus_graphics_index, -1);
    EXPECT_THAT(spice->graphics_note, HasSubstr("SPICE"));

    const GuestInfo* bus = inventory->find("delta-dbus-bus");
    ASSERT_NE(bus, nullptr);
    EXPECT_EQ(bus->graphics, GraphicsSupport::Unsupported);
    EXPECT_THAT(bus->graphics_note, HasSubstr("p2p='yes'"));

    const GuestInfo* none = inventory->find("gamma-none");
    ASSERT_NE(none, nullptr);
    EXPECT_EQ(none->graphics, GraphicsSupport::None);
    EXPECT_THAT(none->graphics_note, HasSubstr("no graphics device"));
}

} // namespace
} // namespace phyllome::guestview

namespace phyllome::guestview {
namespace {

TEST_F(InventoryTest, StartResumesAPausedGuest) {
    open("test:///default");
    ASSERT_EQ(inventory->status().state, ConnectionState::Connected);
    virDomainPtr dom = virDomainLookupByName(inventory->connection(), "test");
    ASSERT_NE(dom, nullptr);
    ASSERT_EQ(virDomainSuspend(dom), 0);
    virDomainFree(dom);
    ASSERT_TRUE(wait_for_state("test", GuestState::Paused));
    const ActionResult r = run(Action::Start, "test");
    EXPECT_TRUE(r.ok) << r.error;
    EXPECT_TRUE(wait_for_state("test", GuestState::Running));
}

} // namespace
} // namespace phyllome::guestview
