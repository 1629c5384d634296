// Inventory::create and Action::Remove against the real embedded libvirt: a Phyllome-model guest
// is defined, its disk made, it starts under TCG, and removing takes the guest, its NVRAM and
// its disk (and, with secret:///embed keeping the secret, the LUKS disk's secret) but never a
// user's disk. Skips without QEMU, OVMF or qemu-img.
//
// The embed root is fixed and shared with guest-displays-qemu (a fresh one spends about a
// minute probing QEMU): only one process may use it at a time, hence is_parallel: false.
#include "guestview/inventory.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <libvirt/libvirt.h>
#include <png.h>

#include "guestview/disk_secret.hpp"
#include "guestview/guest_removal.hpp"
#include "guestview/guest_plan.hpp"
#include "guestview/installer_media.hpp"
#include "guestview/libvirt_handles.hpp"
#include "tests/guestview/disk_secret_support.hpp"
#include "tests/guestview/embedded_guest_support.hpp"
#include "tests/guestview/installer_iso.hpp"
#include "tests/guestview/test_support.hpp"

namespace phyllome::guestview {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::pump_until;

constexpr const char* guest_name = "phyllome-create-test";

// Non-zero colour bytes of a screenshot: QEMU 10 sends PNG, older ones a binary PPM.
std::size_t lit_bytes(const std::string& image, const std::string& mime) {
    std::string rgb;
    if (mime == "image/png") {
        png_image png{};
        png.version = PNG_IMAGE_VERSION;
        if (!png_image_begin_read_from_memory(&png, image.data(), image.size()))
            return 0;
        png.format = PNG_FORMAT_RGB;
        rgb.resize(PNG_IMAGE_SIZE(png));
        if (!png_image_finish_read(&png, nullptr, rgb.data(), 0, nullptr)) {
            png_image_free(&png);
            return 0;
        }
    } else {
        int width = 0, height = 0, max = 0, header = 0;
        if (std::sscanf(image.c_str(), "P6 %d %d %d%n", &width, &height, &max, &header) != 3 || header <= 0)
            return 0;
        rgb = image.substr(static_cast<std::size_t>(header) + 1);
    }
    return static_cast<std::size_t>(std::count_if(rgb.begin(), rgb.end(), [](char c) { return c != 0; }));
}

std::string embed_uri() { return "qemu:///embed?root=" + test_embed_root(); }

class InventoryCreateQemuTest : public ::testing::Test {
protected:
    void SetUp() override {
        for (const char* path : {"/usr/bin/qemu-system-x86_64", "/usr/share/OVMF/OVMF_CODE_4M.fd"})
            if (!std::filesystem::exists(path))
                GTEST_SKIP() << path << " is missing";
        if (std::system("command -v qemu-img > /dev/null") != 0)
            GTEST_SKIP() << "qemu-img (qemu-utils) is missing";
        if (!testing::have_program("xorriso"))
            GTEST_SKIP() << "xorriso is missing";
        // A bootable disc libosinfo does not know: the compatible model. The firmware finds
        // nothing it can boot on it and shows its own screen, which is all these tests need.
        std::string error;
        iso = testing::make_installer_iso(dir.path(), "installer.iso", {"PHYLLOME_TEST_DISC", "", "", true}, error);
        ASSERT_FALSE(iso.empty()) << error;
        // Where the agent's remove looks for the shell's disks (default_disk_dir).
        if (const char* data = std::getenv("XDG_DATA_HOME"))
            saved_data_home = data;
        setenv("XDG_DATA_HOME", (dir.path() / "data").c_str(), 1);
        inventory = std::make_unique<Inventory>(
            loop.get(), embed_uri(),
            Inventory::Callbacks{{}, [this](const ActionResult& result) { results.push_back(result); }});
        ASSERT_EQ(inventory->status().state, ConnectionState::Connected) << inventory->status().error;
        remove_guest(); // a leftover of an interrupted run
    }

    void TearDown() override {
        if (inventory)
            remove_guest();
        if (saved_data_home)
            setenv("XDG_DATA_HOME", saved_data_home->c_str(), 1);
        else
            unsetenv("XDG_DATA_HOME");
    }

    ActionResult act(Action action, std::chrono::milliseconds timeout = 60s) {
        return run_action(loop.get(), *inventory, results, action, guest_name, timeout);
    }

    void remove_guest() {
        guestview::remove_guest(loop.get(), *inventory, results, guest_name);
        std::error_code ignored;
        std::filesystem::remove(dir.path() / (std::string{guest_name} + ".qcow2"), ignored);
    }

    GuestSpec spec() const { return small_tcg_spec(guest_name, iso.string(), dir.path().string()); }

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
    std::filesystem::path iso;
    std::vector<ActionResult> results;
    std::unique_ptr<Inventory> inventory;
    std::optional<std::string> saved_data_home;
};

TEST_F(InventoryCreateQemuTest, DefinesAGuestThatStartsUnderTcg) {
    const auto [ok, message] = create(spec());
    ASSERT_TRUE(ok) << message;
    // libvirt 11.3's embedded driver keeps no secrets QEMU could use (disk_secret.cpp says
    // why): the fallback, a plain disk, and the note saying so.
    EXPECT_THAT(message, HasSubstr("the disk is not encrypted"));
    EXPECT_THAT(message, HasSubstr("keeps no secrets"));
    const std::string disk = (dir.path() / (std::string{guest_name} + ".qcow2")).string();
    const std::string info = testing::qemu_img_info(disk);
    EXPECT_THAT(info, HasSubstr("\"format\": \"qcow2\""));
    EXPECT_THAT(info, Not(HasSubstr("\"encrypted\": true")));
    EXPECT_THAT(message, HasSubstr("unknown system, compatible devices chosen"));

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
    EXPECT_THAT(xml.get(), HasSubstr("<target dev='sda' bus='sata'/>")) << "an unknown system gets a SATA disk";
}

// Windows 11's hardware checks on paper: UEFI with Secure Boot and Microsoft's keys, TPM 2.0,
// 4 GB and 2 CPUs; the model starts under TCG with swtpm and OVMF's Secure Boot build, and the
// firmware paints its screen (no Windows needs installing for that).
TEST_F(InventoryCreateQemuTest, Windows11StartsWithTpmAndSecureBoot) {
    if (!testing::have_program("swtpm"))
        GTEST_SKIP() << "swtpm is missing";
    if (!std::filesystem::exists("/usr/share/OVMF/OVMF_CODE_4M.ms.fd"))
        GTEST_SKIP() << "OVMF's Secure Boot build with Microsoft's keys is missing";
    std::string error;
    const std::string win_iso =
        testing::make_installer_iso(dir.path(), "Win11_24H2_English_x64.iso", testing::windows11_ids(), error);
    ASSERT_FALSE(win_iso.empty()) << error;
    GuestSpec win = spec();
    win.iso_path = win_iso;
    win.memory_mb = 0; // Windows 11's own needs
    win.cpus = 0;
    win.disk_size_gb = 8; // the default 64 GB may not fit this machine's free space; sparse anyway
    const auto [ok, message] = create(win);
    ASSERT_TRUE(ok) << message;
    for (const char* part : {"Microsoft Windows 11 (win11)", "4096 MB", "2 CPUs", "UEFI with Secure Boot", "TPM 2.0",
                             "SATA disk and e1000e network"})
        EXPECT_THAT(message, HasSubstr(part));

    // Windows 11's installer restarts twice before it runs from the disk: then it is ejected.
    ASSERT_NE(inventory->find(guest_name), nullptr);
    EXPECT_TRUE(inventory->find(guest_name)->installer_attached);

    const ActionResult started = act(Action::Start);
    ASSERT_TRUE(started.ok) << started.error;
    DomainPtr domain{virDomainLookupByName(inventory->connection(), guest_name)};
    LibvirtString xml{virDomainGetXMLDesc(domain.get(), 0)};
    const std::optional<InstallerMedia> installer = installer_from_domain_xml(xml.get(), guest_name);
    ASSERT_TRUE(installer);
    EXPECT_EQ(installer->reboots, 2);
    EXPECT_EQ(installer->target, "sdb");
    for (const char* part : {"<tpm model='tpm-crb'>", "<backend type='emulator' version='2.0'/>", "secure='yes'",
                             "OVMF_CODE_4M.ms.fd", "OVMF_VARS_4M.ms.fd", "<smm state='on'/>",
                             "http://microsoft.com/win/11"})
        EXPECT_THAT(xml.get(), HasSubstr(part));

    // The firmware's first picture: QEMU's screenshot of the guest's own screen is no longer
    // all black.
    bool painted = false;
    const auto deadline = std::chrono::steady_clock::now() + 90s;
    while (!painted && std::chrono::steady_clock::now() < deadline) {
        std::optional<std::string> image;
        std::string mime;
        inventory->screenshot(guest_name, 0, [&](std::string bytes, std::string type, std::string) {
            image = std::move(bytes);
            mime = std::move(type);
        });
        ASSERT_TRUE(pump_until(loop.get(), [&] { return image.has_value(); }, 30s));
        painted = lit_bytes(*image, mime) > 1000;
        if (!painted)
            testing::pump_for(loop.get(), 1s); // a poll with a deadline: the firmware runs under TCG
    }
    EXPECT_TRUE(painted) << "OVMF never drew on the screen within 90 s";
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

// Removing through the Inventory, as phyllomectl and the overlay do: refused while the guest
// runs; then the guest, its NVRAM and its disk go, the user's own disk and the ISO stay.
TEST_F(InventoryCreateQemuTest, RemoveRefusesARunningGuestThenTakesItsDiskButNoUsersDisk) {
    GuestSpec own = spec();
    own.disk_dir = default_disk_dir(embed_uri());
    std::filesystem::create_directories(own.disk_dir);
    ASSERT_EQ(own.disk_dir, (dir.path() / "data/phyllome/images").string());
    ASSERT_TRUE(create(own).first);
    const std::string disk = phyllome_disk_path(own);
    ASSERT_TRUE(std::filesystem::exists(disk));

    // The user attaches a disk of their own.
    const std::string user_disk = (dir.path() / "user-data.qcow2").string();
    ASSERT_EQ(std::system(("qemu-img create -q -f qcow2 '" + user_disk + "' 64M").c_str()), 0);
    ConnectionPtr connection = share_connection(inventory->connection());
    const std::string attach = fmt::format("<disk type='file' device='disk'><driver name='qemu' type='qcow2'/>"
                                           "<source file='{}'/><target dev='vdb' bus='virtio'/></disk>",
                                           user_disk);
    const bool attached = testing::run_blocking<bool>(loop.get(), [&] {
        DomainPtr domain{virDomainLookupByName(connection.get(), guest_name)};
        return domain && virDomainAttachDeviceFlags(domain.get(), attach.c_str(), VIR_DOMAIN_AFFECT_CONFIG) == 0;
    });
    ASSERT_TRUE(attached) << last_libvirt_error();

    ASSERT_TRUE(act(Action::Start).ok);
    ASSERT_TRUE(pump_until(loop.get(), [&] { return inventory->find(guest_name)->state == GuestState::Running; }, 10s));
    const ActionResult refused = act(Action::Remove);
    EXPECT_FALSE(refused.ok);
    EXPECT_THAT(refused.error, HasSubstr("shut it down first"));
    EXPECT_NE(inventory->find(guest_name), nullptr);
    EXPECT_TRUE(std::filesystem::exists(disk));

    ASSERT_TRUE(act(Action::ForceOff).ok);
    ASSERT_TRUE(pump_until(loop.get(), [&] { return inventory->find(guest_name)->state == GuestState::ShutOff; }, 10s));
    // The NVRAM the first start made, to see it go.
    const std::string nvram = testing::run_blocking<std::string>(loop.get(), [&] {
        DomainPtr domain{virDomainLookupByName(connection.get(), guest_name)};
        LibvirtString xml{domain ? virDomainGetXMLDesc(domain.get(), VIR_DOMAIN_XML_INACTIVE) : nullptr};
        std::string text = xml ? xml.get() : "";
        const auto start = text.find('>', text.find("<nvram"));
        const auto end = text.find("</nvram>");
        return start < end && end != std::string::npos ? text.substr(start + 1, end - start - 1) : std::string{};
    });
    ASSERT_FALSE(nvram.empty());
    ASSERT_TRUE(std::filesystem::exists(nvram)) << nvram;

    const ActionResult removed = act(Action::Remove);
    ASSERT_TRUE(removed.ok) << removed.error;
    EXPECT_TRUE(pump_until(loop.get(), [&] { return inventory->find(guest_name) == nullptr; }, 5s));
    EXPECT_FALSE(std::filesystem::exists(disk));
    EXPECT_FALSE(std::filesystem::exists(nvram));
    EXPECT_TRUE(std::filesystem::exists(user_disk)) << "a disk the user attached is theirs";
    EXPECT_TRUE(std::filesystem::exists(iso)) << "the installer is the user's";
}

// A LUKS disk the shell made, found by its secret's description alone (it is not in the disk
// folder the removal is given), goes with that secret. The embedded driver keeps no secrets,
// so secret:///embed keeps them here, as libvirtd's secret driver does for qemu:///system.
TEST_F(InventoryCreateQemuTest, RemoveTakesAnEncryptedDiskWithItsSecret) {
    testing::TempDir secret_root;
    ConnectionPtr secrets{virConnectOpen(("secret:///embed?root=" + secret_root.path().string()).c_str())};
    ASSERT_TRUE(secrets) << last_libvirt_error();
    ConnectionPtr connection = share_connection(inventory->connection());
    const CreateOutcome created = testing::run_blocking<CreateOutcome>(
        loop.get(), [&] { return create_guest(connection.get(), plan_guest(connection.get(), spec(), GuestNetwork::User, nullptr), secrets.get()); });
    ASSERT_TRUE(created.ok) << created.message;
    const std::string disk = phyllome_disk_path(spec());
    ASSERT_THAT(testing::qemu_img_info(disk), HasSubstr("\"encrypted\": true"));
    SecretPtr secret = volume_secret(secrets.get(), disk);
    ASSERT_TRUE(secret);
    const std::string uuid = testing::secret_uuid(secret.get());
    secret.reset();

    const std::string error = testing::run_blocking<std::string>(loop.get(), [&] {
        return remove_guest_and_disks(connection.get(), guest_name, (dir.path() / "elsewhere").string(), secrets.get());
    });
    EXPECT_EQ(error, "");
    EXPECT_TRUE(pump_until(loop.get(), [&] { return inventory->find(guest_name) == nullptr; }, 5s));
    EXPECT_FALSE(std::filesystem::exists(disk));
    SecretPtr gone{virSecretLookupByUUIDString(secrets.get(), uuid.c_str())};
    EXPECT_FALSE(gone) << "the disk's secret goes with it";
    EXPECT_TRUE(std::filesystem::exists(iso));
}

} // namespace
} // namespace phyllome::guestview
