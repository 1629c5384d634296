// Ejecting the installer against the real embedded libvirt and QEMU under TCG: the installer's
// own restarts are counted until its CD-ROM is emptied, and Action::Eject empties it by hand.
// Skips without QEMU or OVMF. Its own embed root (PHYLLOME_TEST_EMBED_ROOT), as the other QEMU
// tests: only one process may use a root at a time, hence is_parallel: false.
#include "guestview/inventory.hpp"

#include <filesystem>
#include <fstream>
#include <future>
#include <thread>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <libvirt/libvirt-qemu.h>
#include <libvirt/libvirt.h>

#include "guestview/installer_media.hpp"
#include "guestview/libvirt_handles.hpp"
#include "tests/guestview/embedded_guest_support.hpp"
#include "tests/guestview/test_support.hpp"

namespace phyllome::guestview {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using testing::pump_until;

constexpr const char* guest_name = "phyllome-eject-test";

std::string embed_uri() { return "qemu:///embed?root=" + test_embed_root(); }

class InstallerEjectQemuTest : public ::testing::Test {
protected:
    void SetUp() override {
        for (const char* path : {"/usr/bin/qemu-system-x86_64", "/usr/share/OVMF/OVMF_CODE_4M.fd"})
            if (!std::filesystem::exists(path))
                GTEST_SKIP() << path << " is missing";
        // QEMU takes any file as a CD; nothing needs to boot from it.
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

    void remove_guest() { guestview::remove_guest(loop.get(), *inventory, results, guest_name); }

    // Defining talks to no QEMU, so it may run on the loop's thread.
    void define(int reboots) {
        const std::string xml = fmt::format(R"(<domain type='qemu'>
  <name>{}</name>
  <memory unit='MiB'>256</memory>
  <vcpu>1</vcpu>
  <metadata>{}</metadata>
  <os firmware='efi'><type arch='x86_64' machine='q35'>hvm</type></os>
  <features><acpi/></features>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <disk type='file' device='cdrom'>
      <driver name='qemu' type='raw'/><source file='{}'/><target dev='sda' bus='sata'/><readonly/>
    </disk>
    <memballoon model='none'/>
  </devices>
</domain>)",
                                            guest_name, installer_element(reboots, "sda"), iso.string());
        DomainPtr domain{virDomainDefineXML(inventory->connection(), xml.c_str())};
        ASSERT_TRUE(domain) << last_libvirt_error();
        ASSERT_TRUE(pump_until(loop.get(), [&] {
            const GuestInfo* g = inventory->find(guest_name);
            return g != nullptr && g->installer_attached;
        })) << "guests() shows the installer";
    }

    DomainPtr domain() const { return DomainPtr{virDomainLookupByName(inventory->connection(), guest_name)}; }

    std::string xml(unsigned flags) const {
        DomainPtr d = domain();
        LibvirtString text{d ? virDomainGetXMLDesc(d.get(), flags) : nullptr};
        return text ? text.get() : "";
    }

    // Calls that talk to QEMU run off the loop's thread: the embedded driver needs the loop.
    template <typename Call>
    auto off_loop(Call call) {
        auto result = std::async(std::launch::async, std::move(call));
        EXPECT_TRUE(pump_until(loop.get(), [&] { return result.wait_for(0s) == std::future_status::ready; }, 60s));
        return result.get();
    }

    // A write to one of the guest's I/O ports through QEMU's monitor, as the guest's own CPU
    // would make it: QEMU cannot tell the two apart. No guest OS needed.
    std::string guest_writes(const char* command) {
        return off_loop([this, command] {
            DomainPtr d = domain();
            char* reply = nullptr;
            if (!d || virDomainQemuMonitorCommand(d.get(), command, &reply, VIR_DOMAIN_QEMU_MONITOR_COMMAND_HMP) < 0)
                return last_libvirt_error();
            std::free(reply);
            return std::string{};
        });
    }

    // The chipset's reset register (0xcf9 on q35): QEMU reports RESET {"guest": true}.
    void guest_resets() { ASSERT_EQ(guest_writes("o /b 0xcf9 0x06"), ""); }

    // S5 (SLP_EN, SLP_TYP 0 in QEMU's tables) in the ACPI PM1a control register, PMBASE 0x600 as
    // OVMF sets it on q35: QEMU reports SHUTDOWN {"guest": true}. Written again until it takes,
    // as the firmware turns that register on early in its boot.
    void guest_powers_off() {
        const auto deadline = std::chrono::steady_clock::now() + 60s;
        auto off = [&] { return inventory->find(guest_name)->state == GuestState::ShutOff; };
        while (!off() && std::chrono::steady_clock::now() < deadline) {
            guest_writes("o /w 0x604 0x2000"); // fails once the guest is off, which ends the loop
            pump_until(loop.get(), off, 1s);
        }
        ASSERT_TRUE(off());
        EXPECT_EQ(inventory->find(guest_name)->state_reason, "shut off: shutdown");
    }

    // A reset the host asks for (QEMU's system_reset): no restart of the installer.
    void host_resets() {
        const std::string error = off_loop([this] {
            DomainPtr d = domain();
            return d && virDomainReset(d.get(), 0) == 0 ? std::string{} : last_libvirt_error();
        });
        ASSERT_EQ(error, "");
    }

    // libvirt's REBOOT events on the Inventory's connection, counted in the order the Inventory
    // sees QEMU's RESET events (each comes just before its REBOOT).
    int watch_reboots() {
        auto on_reboot = [](virConnectPtr, virDomainPtr, void* opaque) { ++*static_cast<int*>(opaque); };
        using Reboot = void (*)(virConnectPtr, virDomainPtr, void*);
        const Reboot callback = on_reboot;
        return virConnectDomainEventRegisterAny(
            inventory->connection(), nullptr, VIR_DOMAIN_EVENT_ID_REBOOT,
            reinterpret_cast<virConnectDomainEventGenericCallback>(reinterpret_cast<void (*)()>(callback)), &reboots,
            nullptr);
    }

    // Waits until the worker has done everything queued before: it runs jobs in order.
    void flush_worker() {
        bool done = false;
        inventory->set_identity(guest_name, 5, std::nullopt, [&](bool ok, std::string error) {
            EXPECT_TRUE(ok) << error;
            done = true;
        });
        ASSERT_TRUE(pump_until(loop.get(), [&] { return done; }, 30s));
    }

    testing::LoopPtr loop = testing::make_loop();
    testing::TempDir dir;
    std::filesystem::path iso = dir.path() / "installer.iso";
    std::vector<ActionResult> results;
    std::unique_ptr<Inventory> inventory;
    int reboots = 0;
};

bool holds_media(const std::string& xml) { return !cdroms_with_media(xml).empty(); }

TEST_F(InstallerEjectQemuTest, TheInstallersRestartsAreCountedThenItsCdromIsEmptied) {
    define(2);
    const ActionResult started = run_action(loop.get(), *inventory, results, Action::Start, guest_name, 60s);
    ASSERT_TRUE(started.ok) << started.error;
    ASSERT_TRUE(holds_media(xml(0)));

    const int watch = watch_reboots();
    ASSERT_GE(watch, 0) << last_libvirt_error();

    // The host's reset is not counted, the guest's is: in the config, so that it survives an
    // agent restart. Had the host's counted too, the ISO would be gone by now.
    host_resets();
    guest_resets();
    ASSERT_TRUE(pump_until(loop.get(), [&] { return reboots == 2; }, 60s)) << "libvirt reports both";
    flush_worker();
    EXPECT_EQ(installer_from_domain_xml(xml(VIR_DOMAIN_XML_INACTIVE), guest_name), (InstallerMedia{1, "sda"}));
    EXPECT_TRUE(holds_media(xml(0)));
    EXPECT_TRUE(holds_media(xml(VIR_DOMAIN_XML_INACTIVE)));

    // The last one ejects it, live and in the config, and drops the element.
    guest_resets();
    ASSERT_TRUE(pump_until(loop.get(), [&] { return !inventory->find(guest_name)->installer_attached; }, 60s));
    ASSERT_TRUE(pump_until(loop.get(), [&] { return !holds_media(xml(0)); }, 30s)) << xml(0);
    EXPECT_FALSE(holds_media(xml(VIR_DOMAIN_XML_INACTIVE))) << xml(VIR_DOMAIN_XML_INACTIVE);
    EXPECT_THAT(xml(VIR_DOMAIN_XML_INACTIVE), HasSubstr("<target dev='sda' bus='sata'/>")) << "the drive stays";
    EXPECT_EQ(installer_from_domain_xml(xml(0), guest_name), std::nullopt);
    EXPECT_EQ(installer_from_domain_xml(xml(VIR_DOMAIN_XML_INACTIVE), guest_name), std::nullopt);
    int state = VIR_DOMAIN_NOSTATE;
    ASSERT_EQ(virDomainGetState(domain().get(), &state, nullptr, 0), 0);
    EXPECT_EQ(state, VIR_DOMAIN_RUNNING) << "ejecting does not stop the guest";
    EXPECT_EQ(inventory->find(guest_name)->state, GuestState::Running);
    virConnectDomainEventDeregisterAny(inventory->connection(), watch);
}

TEST_F(InstallerEjectQemuTest, AGuestPoweringItselfOffCountsToo) {
    define(1);
    const ActionResult started = run_action(loop.get(), *inventory, results, Action::Start, guest_name, 60s);
    ASSERT_TRUE(started.ok) << started.error;
    guest_powers_off();
    ASSERT_TRUE(pump_until(loop.get(), [&] { return !inventory->find(guest_name)->installer_attached; }, 30s));
    EXPECT_FALSE(holds_media(xml(VIR_DOMAIN_XML_INACTIVE))) << xml(VIR_DOMAIN_XML_INACTIVE);
    EXPECT_EQ(installer_from_domain_xml(xml(VIR_DOMAIN_XML_INACTIVE), guest_name), std::nullopt);
}

TEST_F(InstallerEjectQemuTest, AShutdownTheUserAskedForDoesNotCount) {
    define(1);
    const ActionResult started = run_action(loop.get(), *inventory, results, Action::Start, guest_name, 60s);
    ASSERT_TRUE(started.ok) << started.error;
    const ActionResult asked = run_action(loop.get(), *inventory, results, Action::Shutdown, guest_name, 60s);
    ASSERT_TRUE(asked.ok) << asked.error;
    guest_powers_off(); // OVMF answers the ACPI request itself; else this does as an OS would
    flush_worker();
    EXPECT_TRUE(inventory->find(guest_name)->installer_attached);
    EXPECT_EQ(installer_from_domain_xml(xml(VIR_DOMAIN_XML_INACTIVE), guest_name), (InstallerMedia{1, "sda"}));
    EXPECT_TRUE(holds_media(xml(VIR_DOMAIN_XML_INACTIVE)));
}

TEST_F(InstallerEjectQemuTest, EjectOnAShutOffGuestEmptiesItsConfig) {
    define(2);
    const ActionResult ejected = run_action(loop.get(), *inventory, results, Action::Eject, guest_name, 60s);
    ASSERT_TRUE(ejected.ok) << ejected.error;
    EXPECT_EQ(ejected.note, fmt::format("ejected {} from sda", iso.string()));
    const std::string config = xml(VIR_DOMAIN_XML_INACTIVE);
    EXPECT_FALSE(holds_media(config)) << config;
    EXPECT_EQ(installer_from_domain_xml(config, guest_name), std::nullopt);
    EXPECT_FALSE(inventory->find(guest_name)->installer_attached) << "guests() shows it before action_done";
    EXPECT_EQ(inventory->find(guest_name)->state, GuestState::ShutOff);

    const ActionResult again = run_action(loop.get(), *inventory, results, Action::Eject, guest_name, 60s);
    EXPECT_FALSE(again.ok);
    EXPECT_EQ(again.error, "no installer to eject");
}

} // namespace
} // namespace phyllome::guestview
