// A LUKS disk on the real path: qemu:///system, where libvirtd's own secret driver keeps the
// disk's secret and hands it to QEMU (the embedded driver cannot, see disk_secret.cpp). A
// private system-mode libvirtd (system_libvirtd.hpp) with the QEMU and secret drivers serves
// the test on its own socket; through the Inventory a guest is created with an encrypted disk,
// started under TCG and removed with its disk and secret. Then the report: a guest
// removed by hand (virsh undefine, rm) leaves its secret behind, and creating the same name
// again must not fail on it. Skips without root, libvirtd, its QEMU driver, QEMU, OVMF,
// qemu-img or xorriso. One such daemon at a time: is_parallel: false.
#include "guestview/inventory.hpp"

#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <optional>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <libvirt/libvirt.h>

#include "guestview/disk_secret.hpp"
#include "guestview/libvirt_handles.hpp"
#include "tests/guestview/disk_secret_support.hpp"
#include "tests/guestview/embedded_guest_support.hpp"
#include "tests/guestview/installer_iso.hpp"
#include "tests/guestview/system_libvirtd.hpp"
#include "tests/guestview/test_support.hpp"

namespace phyllome::guestview {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::pump_until;
using testing::run_blocking;

constexpr const char* guest_name = "phyllome-system-luks-test";

class EncryptedDiskSystemTest : public ::testing::Test {
protected:
    void SetUp() override {
        if (!std::filesystem::exists("/usr/share/OVMF/OVMF_CODE_4M.fd"))
            GTEST_SKIP() << "/usr/share/OVMF/OVMF_CODE_4M.fd is missing";
        if (!testing::have_program("xorriso"))
            GTEST_SKIP() << "xorriso is missing";
        const testing::TestStart started = testing::start_for_test(daemon);
        if (!started.skip.empty())
            GTEST_SKIP() << started.skip;
        if (!started.failure.empty())
            FAIL() << started.failure;

        std::string error;
        iso = testing::make_installer_iso(dir.path(), "installer.iso", {"PHYLLOME_TEST_DISC", "", "", true}, error);
        ASSERT_FALSE(iso.empty()) << error;
        inventory = std::make_unique<Inventory>(
            loop.get(), daemon->uri(),
            Inventory::Callbacks{{}, [this](const ActionResult& result) { results.push_back(result); }});
        ASSERT_EQ(inventory->status().state, ConnectionState::Connected) << inventory->status().error;
        // A second connection, as virsh would have: checks and the hand-made removal.
        own.reset(virConnectOpen(daemon->uri().c_str()));
        ASSERT_TRUE(own) << last_libvirt_error();
    }

    void TearDown() override {
        if (inventory)
            guestview::remove_guest(loop.get(), *inventory, results, guest_name);
        if (HasFailure() && daemon)
            std::cerr << "libvirtd's log:\n" << daemon->log() << "\nQEMU's log:\n" << daemon->guest_log(guest_name);
        own.reset();
        inventory.reset(); // before the daemon stops, so it sees no lost connection
        daemon.reset();    // SIGTERM and wait, then any QEMU it left
    }

    ActionResult act(Action action, std::chrono::milliseconds timeout = 60s) {
        return run_action(loop.get(), *inventory, results, action, guest_name, timeout);
    }

    bool state_becomes(GuestState state, std::chrono::milliseconds timeout = 60s) {
        return pump_until(loop.get(), [&] {
            const GuestInfo* guest = inventory->find(guest_name);
            return guest != nullptr && guest->state == state;
        }, timeout);
    }

    GuestSpec spec() const { return small_tcg_spec(guest_name, iso.string(), dir.path().string()); }

    std::string disk() const { return phyllome_disk_path(spec()); }

    std::pair<bool, std::string> create() {
        std::optional<std::pair<bool, std::string>> result;
        inventory->create(spec(), [&](bool ok, std::string message) { result.emplace(ok, std::move(message)); });
        if (!pump_until(loop.get(), [&] { return result.has_value(); }, 120s))
            return {false, "timed out"};
        return *result;
    }

    // The UUID of the secret libvirtd keeps for the disk's path, or "".
    std::string disk_secret_uuid() {
        return run_blocking<std::string>(loop.get(), [&] {
            SecretPtr secret = volume_secret(own.get(), disk());
            return secret ? testing::secret_uuid(secret.get()) : std::string{};
        });
    }

    bool secret_exists(const std::string& uuid) {
        return run_blocking<bool>(loop.get(), [&] {
            SecretPtr secret{virSecretLookupByUUIDString(own.get(), uuid.c_str())};
            virResetLastError();
            return secret != nullptr;
        });
    }

    // Declared first, destroyed last: everything below talks to it.
    std::optional<testing::SystemLibvirtd> daemon;
    testing::LoopPtr loop = testing::make_loop();
    testing::TempDir dir;
    std::filesystem::path iso;
    std::vector<ActionResult> results;
    std::unique_ptr<Inventory> inventory;
    ConnectionPtr own;
};

TEST_F(EncryptedDiskSystemTest, LuksDiskStartsAndGoesWithItsSecret) {
    const auto [ok, message] = create();
    ASSERT_TRUE(ok) << message;
    EXPECT_THAT(message, HasSubstr("encrypted disk"));
    EXPECT_THAT(message, Not(HasSubstr("not encrypted")));

    const std::string info = testing::qemu_img_info(disk());
    EXPECT_THAT(info, HasSubstr("\"format\": \"qcow2\""));
    EXPECT_THAT(info, HasSubstr("\"encrypted\": true")) << info;
    EXPECT_THAT(info, HasSubstr("\"format\": \"luks\"")) << "qcow2's LUKS, not its old AES" << info;

    const std::string uuid = disk_secret_uuid();
    ASSERT_FALSE(uuid.empty()) << "libvirtd keeps a secret for " << disk();
    const std::string xml = run_blocking<std::string>(loop.get(), [&] {
        DomainPtr domain{virDomainLookupByName(own.get(), guest_name)};
        LibvirtString text{domain ? virDomainGetXMLDesc(domain.get(), VIR_DOMAIN_XML_INACTIVE) : nullptr};
        return text ? std::string{text.get()} : std::string{};
    });
    EXPECT_THAT(xml, HasSubstr("<encryption format='luks'")); // libvirt adds engine='qemu'
    EXPECT_THAT(xml, HasSubstr("<secret type='passphrase' uuid='" + uuid + "'/>"));

    // QEMU gets the passphrase from libvirtd's secret driver and opens the LUKS disk.
    const ActionResult started = act(Action::Start, 120s);
    ASSERT_TRUE(started.ok) << started.error;
    ASSERT_TRUE(state_becomes(GuestState::Running));

    ASSERT_TRUE(act(Action::ForceOff).ok);
    ASSERT_TRUE(state_becomes(GuestState::ShutOff));
    const ActionResult removed = act(Action::Remove);
    ASSERT_TRUE(removed.ok) << removed.error;
    EXPECT_TRUE(pump_until(loop.get(), [&] { return inventory->find(guest_name) == nullptr; }, 10s));
    EXPECT_FALSE(std::filesystem::exists(disk()));
    EXPECT_EQ(disk_secret_uuid(), "") << "no secret by the disk's path";
    EXPECT_FALSE(secret_exists(uuid)) << "the disk's secret went with it";
    EXPECT_TRUE(std::filesystem::exists(iso)) << "the installer is the user's";
}

// Issue 14's report: a guest removed as a virsh user would (undefine, rm the disk) leaves its
// secret, whose usage is the disk's path; creating the guest again used to fail with "a secret
// with UUID … already defined for use with <path>".
TEST_F(EncryptedDiskSystemTest, RecreatesOverTheSecretOfAGuestRemovedByHand) {
    const auto [ok, message] = create();
    ASSERT_TRUE(ok) << message;
    ASSERT_THAT(message, HasSubstr("encrypted disk"));
    const std::string stale = disk_secret_uuid();
    ASSERT_FALSE(stale.empty());

    const bool undefined = run_blocking<bool>(loop.get(), [&] {
        DomainPtr domain{virDomainLookupByName(own.get(), guest_name)};
        return domain && virDomainUndefineFlags(domain.get(), VIR_DOMAIN_UNDEFINE_NVRAM) == 0;
    });
    ASSERT_TRUE(undefined) << last_libvirt_error();
    ASSERT_TRUE(std::filesystem::remove(disk()));
    ASSERT_TRUE(pump_until(loop.get(), [&] { return inventory->find(guest_name) == nullptr; }, 10s));
    ASSERT_TRUE(secret_exists(stale)) << "the hand-made removal leaves the secret, as virsh does";

    const auto [again, again_message] = create();
    ASSERT_TRUE(again) << again_message;
    EXPECT_THAT(again_message, Not(HasSubstr("already defined")));
    EXPECT_THAT(again_message, HasSubstr("encrypted disk"));
    EXPECT_FALSE(secret_exists(stale)) << "the leftover secret is gone";
    const std::string fresh = disk_secret_uuid();
    EXPECT_FALSE(fresh.empty());
    EXPECT_NE(fresh, stale);
    EXPECT_THAT(testing::qemu_img_info(disk()), HasSubstr("\"encrypted\": true"));
}

} // namespace
} // namespace phyllome::guestview
