// End to end: an embedded libvirt (qemu:///embed) starts a real guest (TCG, OVMF, virtio-gpu,
// <graphics type='dbus' p2p='yes'/>) and GuestDisplays attaches to it by itself.
//
// The embed root is fixed and kept across runs: a fresh one spends about a minute probing QEMU's
// capabilities. Only one process may use it at a time, hence is_parallel: false in meson.
#include "guestview/guest_displays.hpp"

#include <unistd.h>

#include <filesystem>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <libvirt/libvirt.h>

#include "config/log.hpp"
#include "guestview/inventory.hpp"
#include "guestview/libvirt_handles.hpp"
#include "tests/guestview/guest_displays_recorder.hpp"
#include "tests/guestview/embedded_guest_support.hpp"
#include "tests/firmware/ovmf.hpp"
#include "tests/guestview/test_support.hpp"

namespace phyllome::guestview {
namespace {

using namespace std::chrono_literals;
using testing::DisplayRecorder;
using testing::LoopPtr;
using testing::make_loop;
using testing::pump_until;

constexpr const char* qemu_binary = "/usr/bin/qemu-system-x86_64";
constexpr const char* guest_name = "phyllome-guest-displays-test";

std::string embed_uri() { return "qemu:///embed?root=" + test_embed_root(); }

std::string guest_xml() {
    return fmt::format(R"(<domain type='qemu'>
  <name>{}</name>
  <memory unit='MiB'>256</memory>
  <vcpu>1</vcpu>
  {}
  <features><acpi/></features>
  <on_poweroff>destroy</on_poweroff>
  <devices>
    <emulator>{}</emulator>
    <graphics type='dbus' p2p='yes'/>
    <video><model type='virtio' heads='1' primary='yes'/></video>
    <memballoon model='none'/>
  </devices>
</domain>)",
                       guest_name, test::efi_os_xml(), qemu_binary);
}

bool has_visible_pixels(const Frame& frame) {
    if (frame.pixels() == nullptr || frame.format().bytes_per_pixel != 4)
        return false;
    for (std::uint32_t y = 0; y < frame.height(); ++y) {
        const auto* row = reinterpret_cast<const std::uint32_t*>(frame.pixels() + std::size_t{y} * frame.stride());
        for (std::uint32_t x = 0; x < frame.width(); ++x)
            if (row[x] & 0x00ffffffu) // ignore the X/alpha byte
                return true;
    }
    return false;
}

class GuestDisplaysQemuTest : public ::testing::Test {
protected:
    void SetUp() override {
        if (!std::filesystem::exists(qemu_binary))
            GTEST_SKIP() << qemu_binary << " is missing";
        if (const std::string missing = test::ovmf_missing_reason(); !missing.empty())
            GTEST_SKIP() << missing;
        inventory = std::make_unique<Inventory>(loop.get(), embed_uri(),
                                                Inventory::Callbacks{[this] {
                                                                         if (displays)
                                                                             displays->sync();
                                                                     },
                                                                     [this](const ActionResult& result) {
                                                                         results.push_back(result);
                                                                     }});
        ASSERT_EQ(inventory->status().state, ConnectionState::Connected) << inventory->status().error;
        remove_guest(); // a leftover of an interrupted run
        displays = std::make_unique<GuestDisplays>(loop.get(), *inventory, recorder.events());
    }

    void TearDown() override {
        displays.reset();
        if (inventory)
            remove_guest();
    }

    ActionResult act(Action action, std::chrono::milliseconds timeout = 30s) {
        return run_action(loop.get(), *inventory, results, action, guest_name, timeout);
    }
    void remove_guest() { guestview::remove_guest(loop.get(), *inventory, results, guest_name); }

    LoopPtr loop = make_loop();
    DisplayRecorder recorder;
    std::vector<ActionResult> results;
    std::unique_ptr<Inventory> inventory;
    std::unique_ptr<GuestDisplays> displays;
};

TEST_F(GuestDisplaysQemuTest, AttachesToAStartedGuestAndDetachesWhenItIsForcedOff) {
    DomainPtr defined{virDomainDefineXML(inventory->connection(), guest_xml().c_str())};
    ASSERT_TRUE(defined) << last_libvirt_error();
    defined.reset();
    ASSERT_TRUE(pump_until(loop.get(), [&] { return inventory->find(guest_name) != nullptr; }, 5s));
    EXPECT_EQ(inventory->find(guest_name)->graphics, GraphicsSupport::DbusP2P);
    EXPECT_EQ(displays->status(guest_name).state, DisplayState::None) << "not running yet";

    const auto start = std::chrono::steady_clock::now();
    const ActionResult started = act(Action::Start, 60s);
    ASSERT_TRUE(started.ok) << started.error;
    const auto started_after = std::chrono::steady_clock::now() - start;

    // Nobody asks: the inventory's change makes sync() open the display.
    ASSERT_TRUE(pump_until(loop.get(), [&] { return !recorder.attached.empty(); }, 30s))
        << "status: " << to_string(displays->status(guest_name).state) << " " << displays->status(guest_name).error;
    const auto attached_after = std::chrono::steady_clock::now() - start;
    EXPECT_EQ(recorder.attached[0], guest_name);
    const std::vector<std::uint32_t> consoles = displays->graphic_consoles(guest_name);
    ASSERT_FALSE(consoles.empty());

    // OVMF under TCG takes a while to draw anything.
    const bool visible = pump_until(
        loop.get(),
        [&] {
            DisplayConnection* connection = displays->connection(guest_name);
            auto frame = connection ? connection->current_frame(consoles[0]) : nullptr;
            return frame && frame->width() == 1280 && frame->height() == 800 && has_visible_pixels(*frame);
        },
        90s);
    ASSERT_TRUE(visible) << "no non-blank 1280x800 frame; " << recorder.frames.size() << " frame events";
    const auto visible_after = std::chrono::steady_clock::now() - start;
    ASSERT_FALSE(recorder.frames.empty());
    EXPECT_EQ(recorder.frames.back().guest, guest_name);
    EXPECT_EQ(displays->status(guest_name).state, DisplayState::Connected);

    const ActionResult stopped = act(Action::ForceOff);
    ASSERT_TRUE(stopped.ok) << stopped.error;
    ASSERT_TRUE(pump_until(loop.get(), [&] { return !recorder.detached.empty(); }, 30s));
    EXPECT_EQ(recorder.detached[0].first, guest_name);
    ASSERT_TRUE(pump_until(loop.get(), [&] { return inventory->find(guest_name)->state == GuestState::ShutOff; }, 10s));
    EXPECT_EQ(displays->status(guest_name).state, DisplayState::None);
    EXPECT_EQ(displays->connection(guest_name), nullptr);
    EXPECT_EQ(recorder.attached.size(), 1u);

    auto ms = [](auto d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d).count(); };
    log::info("embedded guest: started after {} ms, attached after {} ms, first visible frame after {} ms, "
              "detached: {}",
              ms(started_after), ms(attached_after), ms(visible_after), recorder.detached[0].second);
}

} // namespace
} // namespace phyllome::guestview
