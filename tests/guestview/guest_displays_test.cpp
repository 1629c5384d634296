// GuestDisplays against the fake QEMU display peer (manual displays) and libvirt's test driver
// (which has no graphics to open, so it exercises the failure path).
#include "guestview/guest_displays.hpp"

#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <pixman.h>

#include "guestview/inventory.hpp"
#include "tests/display/fake_qemu_display.hpp"
#include "tests/guestview/guest_displays_recorder.hpp"
#include "tests/guestview/test_support.hpp"

namespace phyllome::guestview {
namespace {

using namespace std::chrono_literals;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using testing::DisplayRecorder;
using testing::FakeConsoleConfig;
using testing::FakeQemuDisplay;
using testing::LoopPtr;
using testing::make_loop;
using testing::pump_for;
using testing::pump_until;
using testing::TempDir;

std::vector<std::uint8_t> gradient(std::uint32_t width, std::uint32_t height) {
    std::vector<std::uint8_t> bytes(std::size_t{width} * height * 4);
    for (std::size_t i = 0; i < bytes.size(); ++i)
        bytes[i] = static_cast<std::uint8_t>(i * 7);
    return bytes;
}

class GuestDisplaysTest : public ::testing::Test {
protected:
    void open_inventory(const std::string& uri) {
        inventory = std::make_unique<Inventory>(loop.get(), uri,
                                                Inventory::Callbacks{[this] {
                                                                         ++inventory_changes;
                                                                         if (displays)
                                                                             displays->sync();
                                                                     },
                                                                     {}});
        displays = std::make_unique<GuestDisplays>(loop.get(), *inventory, recorder.events());
    }

    void serve(std::vector<FakeConsoleConfig> consoles = {FakeConsoleConfig{}}) {
        fake = std::make_unique<FakeQemuDisplay>(loop.get(), "fake-vm", std::move(consoles));
        address = fake->listen_unix((dir.path() / "qemu.sock").string());
    }

    bool wait(const std::function<bool()>& done, std::chrono::milliseconds timeout = 10s) {
        return pump_until(loop.get(), done, timeout);
    }

    LoopPtr loop = make_loop();
    TempDir dir;
    DisplayRecorder recorder;
    int inventory_changes = 0;
    std::unique_ptr<Inventory> inventory;
    std::unique_ptr<FakeQemuDisplay> fake;
    std::string address;
    std::unique_ptr<GuestDisplays> displays; // last: goes first
};

TEST_F(GuestDisplaysTest, ManualDisplayAttachesForwardsFramesAndReconnectsAfterThePeerReturns) {
    open_inventory("test:///default");
    serve();
    displays->add_manual("desk", address);
    EXPECT_THAT(recorder.log, IsEmpty()) << "no events inside add_manual()";
    EXPECT_EQ(displays->status("desk").state, DisplayState::Connecting);

    ASSERT_TRUE(wait([&] { return !recorder.attached.empty(); }));
    EXPECT_THAT(recorder.log, ElementsAre("attached desk", "console desk 0"));
    EXPECT_EQ(displays->status("desk").state, DisplayState::Connected);
    EXPECT_THAT(displays->guests_with_display(), ElementsAre("desk"));
    EXPECT_THAT(displays->graphic_consoles("desk"), ElementsAre(0u));
    ASSERT_NE(displays->connection("desk"), nullptr);
    EXPECT_EQ(displays->connection("desk")->console(0)->width, 1280u);
    ASSERT_EQ(displays->manual().size(), 1u);
    EXPECT_EQ(displays->manual()[0].name, "desk");
    EXPECT_EQ(displays->manual()[0].address, address);
    EXPECT_EQ(displays->manual()[0].status.state, DisplayState::Connected);

    ASSERT_TRUE(wait([&] { return fake->listener_connected(0); }));
    const auto pixels = gradient(1280, 800);
    fake->scanout(0, 1280, 800, 1280 * 4, PIXMAN_x8r8g8b8, pixels);
    ASSERT_TRUE(wait([&] { return !recorder.frames.empty(); }));
    EXPECT_EQ(recorder.frames[0].guest, "desk");
    EXPECT_EQ(recorder.frames[0].console, 0u);
    EXPECT_EQ(recorder.frames[0].event.frame->width(), 1280u);
    EXPECT_EQ(recorder.frames[0].event.frame->height(), 800u);

    // QEMU goes away: detached, then retries that fail while nobody listens, with growing delays.
    fake.reset();
    ASSERT_TRUE(wait([&] { return !recorder.detached.empty(); }));
    EXPECT_EQ(recorder.detached[0].first, "desk");
    EXPECT_THAT(recorder.detached[0].second, HasSubstr("display closed"));
    EXPECT_EQ(displays->status("desk").state, DisplayState::Error);
    EXPECT_EQ(displays->status("desk").retry_in, 1000ms);
    EXPECT_EQ(displays->connection("desk"), nullptr);
    EXPECT_THAT(displays->guests_with_display(), IsEmpty());
    ASSERT_TRUE(wait([&] { return displays->status("desk").retry_in == 2000ms; }, 3s))
        << "the first retry finds no socket and doubles the delay";
    EXPECT_EQ(displays->status("desk").state, DisplayState::Error);
    EXPECT_EQ(recorder.attached.size(), 1u);

    serve();
    ASSERT_TRUE(wait([&] { return recorder.attached.size() == 2; }, 5s));
    EXPECT_EQ(displays->status("desk").state, DisplayState::Connected);
    ASSERT_TRUE(wait([&] { return fake->listener_connected(0); }));
    fake->scanout(0, 1280, 800, 1280 * 4, PIXMAN_x8r8g8b8, pixels);
    ASSERT_TRUE(wait([&] { return recorder.frames.size() == 2; }));
    EXPECT_EQ(recorder.frames[1].guest, "desk");
}

TEST_F(GuestDisplaysTest, GraphicConsolesAreOrderedByHeadAndTextConsolesLeftOut) {
    open_inventory("test:///default");
    FakeConsoleConfig second_head;
    second_head.head = 1;
    FakeConsoleConfig first_head;
    first_head.head = 0;
    FakeConsoleConfig text;
    text.type = "Text";
    text.label = "serial0";
    serve({second_head, text, first_head});
    displays->add_manual("multi", address);
    ASSERT_TRUE(wait([&] { return !recorder.attached.empty(); }));
    EXPECT_THAT(displays->graphic_consoles("multi"), ElementsAre(2u, 0u));
    // attached promises that every console is known, and each is announced right after it.
    EXPECT_THAT(recorder.log, ElementsAre("attached multi", "console multi 0", "console multi 1", "console multi 2"));
}

TEST_F(GuestDisplaysTest, AddingANameAgainReplacesTheDisplay) {
    open_inventory("test:///default");
    serve();
    displays->add_manual("desk", address);
    ASSERT_TRUE(wait([&] { return !recorder.attached.empty() && fake->listener_connected(0); }));

    FakeQemuDisplay other(loop.get(), "other-vm", {FakeConsoleConfig{}});
    const std::string other_address = other.listen_unix((dir.path() / "other.sock").string());
    displays->add_manual("desk", other_address);
    ASSERT_EQ(recorder.detached.size(), 1u);
    EXPECT_THAT(recorder.detached[0].second, HasSubstr("replaced"));
    ASSERT_TRUE(wait([&] { return recorder.attached.size() == 2; }));
    EXPECT_EQ(displays->connection("desk")->vm().name, "other-vm");
    ASSERT_EQ(displays->manual().size(), 1u);
    EXPECT_EQ(displays->manual()[0].address, other_address);
    // The first peer's connection is closed (from an idle source, not inside add_manual()).
    ASSERT_TRUE(wait([&] { return !fake->main_connected(); }));
}

TEST_F(GuestDisplaysTest, UnreachableManualDisplayIsAnErrorRetriedWithBackoff) {
    open_inventory("test:///default");
    const std::string nowhere = "unix:path=" + (dir.path() / "absent.sock").string();
    displays->add_manual("ghost", nowhere);
    EXPECT_EQ(displays->status("ghost").state, DisplayState::Error);
    EXPECT_THAT(displays->status("ghost").error, Not(IsEmpty()));
    EXPECT_EQ(displays->status("ghost").retry_in, 1000ms);
    ASSERT_TRUE(wait([&] { return displays->status("ghost").retry_in == 2000ms; }, 3s));
    pump_for(loop.get(), 500ms);
    EXPECT_EQ(displays->status("ghost").retry_in, 2000ms) << "no retry before the delay is up";
    EXPECT_THAT(recorder.log, IsEmpty());
    EXPECT_EQ(displays->status("unknown").state, DisplayState::None);
}

TEST_F(GuestDisplaysTest, OpenGraphicsReportsLibvirtsErrorOnTheLoop) {
    open_inventory("test:///default");
    std::vector<std::pair<int, std::string>> answers;
    inventory->open_graphics("test", 0, [&](int fd, std::string error) { answers.emplace_back(fd, error); });
    inventory->open_graphics("nobody", 0, [&](int fd, std::string error) { answers.emplace_back(fd, error); });
    EXPECT_THAT(answers, IsEmpty()) << "answers come from the loop, never from inside the call";
    ASSERT_TRUE(wait([&] { return answers.size() == 2; }));
    // Either order: the unknown guest is answered at once, the other after the worker.
    for (const auto& [fd, error] : answers) {
        EXPECT_EQ(fd, -1);
        EXPECT_THAT(error, Not(IsEmpty()));
    }
}

TEST_F(GuestDisplaysTest, LibvirtGuestThatCannotOpenGraphicsIsAnErrorUntilItStops) {
    const auto node_file = dir.path() / "node.xml";
    std::ofstream{node_file} << "<node><domain type='test'><name>vm</name><memory>65536</memory>"
                                "<os><type>hvm</type></os><devices><graphics type='dbus' p2p='yes'/>"
                                "</devices></domain></node>";
    open_inventory("test://" + node_file.string());
    ASSERT_EQ(inventory->find("vm")->state, GuestState::Running);
    ASSERT_EQ(inventory->find("vm")->graphics, GraphicsSupport::DbusP2P);
    displays->sync();
    EXPECT_EQ(displays->status("vm").state, DisplayState::Connecting);
    // The test driver cannot open graphics: libvirt's refusal becomes the status.
    ASSERT_TRUE(wait([&] { return displays->status("vm").state == DisplayState::Error; }));
    EXPECT_THAT(displays->status("vm").error, Not(IsEmpty()));
    EXPECT_EQ(displays->status("vm").retry_in, 1000ms);
    ASSERT_TRUE(wait([&] { return displays->status("vm").retry_in == 2000ms; }, 3s));
    displays->sync(); // no new attempt while one waits for its retry
    EXPECT_EQ(displays->status("vm").state, DisplayState::Error);

    inventory->request(Action::ForceOff, "vm");
    ASSERT_TRUE(wait([&] { return inventory->find("vm")->state == GuestState::ShutOff; }));
    displays->sync();
    EXPECT_EQ(displays->status("vm").state, DisplayState::None);
    EXPECT_THAT(recorder.detached, IsEmpty()) << "it never attached";

    // Running again: a fresh attempt at once, with the backoff starting over.
    inventory->request(Action::Start, "vm");
    ASSERT_TRUE(wait([&] { return inventory->find("vm")->state == GuestState::Running; }));
    displays->sync();
    // The attempt may already have failed while the loop ran for the start: either way it is
    // a new one, with the first retry interval.
    EXPECT_NE(displays->status("vm").state, DisplayState::None);
    ASSERT_TRUE(wait([&] { return displays->status("vm").state == DisplayState::Error; }));
    EXPECT_EQ(displays->status("vm").retry_in, 1000ms);
}

TEST_F(GuestDisplaysTest, ADestroyedGuestDisplaysIgnoresLateAnswers) {
    const auto node_file = dir.path() / "node.xml";
    std::ofstream{node_file} << "<node><domain type='test'><name>vm</name><memory>65536</memory>"
                                "<os><type>hvm</type></os><devices><graphics type='dbus' p2p='yes'/>"
                                "</devices></domain></node>";
    open_inventory("test://" + node_file.string());
    displays->sync();
    displays.reset(); // the open_graphics answer is still on its way
    pump_for(loop.get(), 200ms);
    EXPECT_THAT(recorder.log, IsEmpty());
}

} // namespace
} // namespace phyllome::guestview
