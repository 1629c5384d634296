// Inventory::create against the real embedded libvirt: a Phyllome-model guest is defined, its
// disk made, and it starts under TCG. Skips without QEMU, OVMF or qemu-img.
//
// The embed root is fixed and shared with guest-displays-qemu (a fresh one spends about a
// minute probing QEMU): only one process may use it at a time, hence is_parallel: false.
#include "guestview/inventory.hpp"

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <libvirt/libvirt.h>

#include "guestview/libvirt_handles.hpp"
#include "tests/guestview/embedded_guest_support.hpp"
#include "tests/guestview/test_support.hpp"

namespace phyllome::guestview {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using testing::pump_until;

constexpr const char* guest_name = "phyllome-create-test";

std::string embed_uri() { return "qemu:///embed?root=" + test_embed_root(); }

class InventoryCreateQemuTest : public ::testing::Test {
protected:
    void SetUp() override {
        for (const char* path : {"/usr/bin/qemu-system-x86_64", "/usr/share/OVMF/OVMF_CODE_4M.fd"})
            if (!std::filesystem::exists(path))
                GTEST_SKIP() << path << " is missing";
        if (std::system("command -v qemu-img > /dev/null") != 0)
            GTEST_SKIP() << "qemu-img (qemu-utils) is missing";
        // QEMU takes any file as a CD; the firmware finds nothing to boot on it and shows its
        // own screen, which is all this test needs.
        std::ofstream{iso} << std::string(64 * 1024, '\0');
        inventory = std::make_unique<Inventory>(
            loop.get(), embed_uri(),
            Inventory::Callbacks{{}, [this](const ActionResult& result) { results.push_back(result); }});
        ASSERT_EQ(inventory->status().state, ConnectionState::Connected) << inventory->status().error;
        remove_guest(); // a leftover of an interrupted run
    }

    void TearDown() override {
        if (inventory)
            remove_guest();
    }

    ActionResult act(Action action, std::chrono::milliseconds timeout = 60s) {
        return run_action(loop.get(), *inventory, results, action, guest_name, timeout);
    }

    void remove_guest() {
        guestview::remove_guest(loop.get(), *inventory, results, guest_name);
        std::error_code ignored;
        std::filesystem::remove(dir.path() / (std::string{guest_name} + ".qcow2"), ignored);
    }

    GuestSpec spec() const {
        GuestSpec spec;
        spec.name = guest_name;
        spec.iso_path = iso.string();
        spec.disk_size_gb = 1;
        spec.memory_mb = 256;
        spec.cpus = 1;
        spec.disk_dir = dir.path().string();
        spec.allow_kvm = false;
        return spec;
    }

    std::pair<bool, std::string> create(GuestSpec spec) {
        std::optional<std::pair<bool, std::string>> result;
        inventory->create(std::move(spec), [&](bool ok, std::string message) { result.emplace(ok, std::move(message)); });
        EXPECT_FALSE(result) << "never inside the call";
        if (!pump_until(loop.get(), [&] { return result.has_value(); }, 60s))
            return {false, "timed out"};
        return *result;
    }

    testing::LoopPtr loop = testing::make_loop();
    testing::TempDir dir;
    std::filesystem::path iso = dir.path() / "installer.iso";
    std::vector<ActionResult> results;
    std::unique_ptr<Inventory> inventory;
};

TEST_F(InventoryCreateQemuTest, DefinesAGuestThatStartsUnderTcg) {
    const auto [ok, message] = create(spec());
    ASSERT_TRUE(ok) << message;
    // The embedded driver keeps no secrets QEMU could use: the disk is made plain, and said so.
    EXPECT_THAT(message, HasSubstr("not encrypted"));
    EXPECT_TRUE(std::filesystem::exists(dir.path() / (std::string{guest_name} + ".qcow2")));

    const GuestInfo* guest = inventory->find(guest_name);
    ASSERT_NE(guest, nullptr) << "in guests() when done runs";
    EXPECT_EQ(guest->state, GuestState::ShutOff);
    EXPECT_EQ(guest->graphics, GraphicsSupport::DbusP2P);

    const ActionResult started = act(Action::Start);
    ASSERT_TRUE(started.ok) << started.error;
    ASSERT_TRUE(pump_until(loop.get(), [&] { return inventory->find(guest_name)->state == GuestState::Running; }, 10s));
    EXPECT_EQ(inventory->find(guest_name)->graphics, GraphicsSupport::DbusP2P);
    DomainPtr domain{virDomainLookupByName(inventory->connection(), guest_name)};
    LibvirtString xml{virDomainGetXMLDesc(domain.get(), 0)};
    EXPECT_THAT(xml.get(), HasSubstr("<domain type='qemu'"));
    EXPECT_THAT(xml.get(), HasSubstr("OVMF_CODE_4M.fd")) << "firmware autoselection picked OVMF";
}

TEST_F(InventoryCreateQemuTest, RefusesABadSpecOrAnExistingName) {
    GuestSpec bad = spec();
    bad.iso_path = (dir.path() / "missing.iso").string();
    auto [ok, message] = create(bad);
    EXPECT_FALSE(ok);
    EXPECT_THAT(message, HasSubstr("does not exist"));
    EXPECT_EQ(inventory->find(guest_name), nullptr);

    ASSERT_TRUE(create(spec()).first);
    GuestSpec again = spec();
    std::filesystem::remove(dir.path() / (std::string{guest_name} + ".qcow2"));
    std::tie(ok, message) = create(again);
    EXPECT_FALSE(ok);
    EXPECT_THAT(message, HasSubstr("exists already"));
}

} // namespace
} // namespace phyllome::guestview
