// Giving USB devices to a running guest, against the embedded libvirt and a real QEMU under TCG
// (issue 18). This machine has no USB at all, so libvirt cannot find the device: the test holds
// the user-facing errors and that nothing changes. The guests boot nothing: QEMU running is all
// a hotplug needs. Its own embed root (mkdtemp), so it may run beside the other QEMU tests.
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>

#include <fmt/format.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <libvirt/libvirt.h>

#include "guestview/embedded_libvirt.hpp"
#include "guestview/inventory.hpp"
#include "guestview/libvirt_handles.hpp"
#include "tests/guestview/embedded_guest_support.hpp"
#include "tests/guestview/test_support.hpp"

namespace phyllome::guestview {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using testing::pump_until;

const UsbHostdev sandisk{0x0781, 0x5581, 1, 5};

std::string tiny_guest(std::string_view name, std::string_view usb_model) {
    return fmt::format("<domain type='qemu'><name>{}</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>"
                       "<os><type arch='x86_64' machine='q35'>hvm</type></os><devices>"
                       "<controller type='usb' model='{}'/><memballoon model='none'/>"
                       "</devices></domain>",
                       name, usb_model);
}

class UsbHostdevQemuTest : public ::testing::Test {
protected:
    void SetUp() override {
        if (!std::filesystem::exists("/usr/bin/qemu-system-x86_64"))
            GTEST_SKIP() << "/usr/bin/qemu-system-x86_64 is missing";
        char dir[] = "/var/tmp/phyllome-usb-XXXXXX";
        ASSERT_NE(mkdtemp(dir), nullptr);
        root = dir;
        chmod(root.c_str(), 0755);
        if (const char* testbed = std::getenv("UMOCKDEV_DIR")) {
            // Under umockdev (a fake /sys with a USB device): libvirt needs the real cgroups,
            // CPUs, perf and resctrl to start QEMU. Links to them: the kernel follows them.
            for (const char* part : {"fs", "kernel", "devices/system", "bus/event_source"}) {
                const std::filesystem::path link = std::string{testbed} + "/sys/" + part;
                std::error_code ignored;
                std::filesystem::create_directories(link.parent_path(), ignored);
                std::filesystem::create_directory_symlink(std::string{"/sys/"} + part, link, ignored);
            }
            // The fake /dev/bus/usb node is there for this process only: not in QEMU's own
            // /dev namespace, nor for the DAC driver's xattrs.
            ASSERT_EQ(prepare_embedded_root("qemu:///embed?root=" + root), "");
            std::ofstream{root + "/etc/qemu.conf", std::ios::app} << "namespaces = [ ]\nremember_owner = 0\n";
            under_umockdev = true;
        }
        inventory = std::make_unique<Inventory>(
            loop.get(), "qemu:///embed?root=" + root,
            Inventory::Callbacks{{}, [this](const ActionResult& result) { results.push_back(result); }});
        ASSERT_EQ(inventory->status().state, ConnectionState::Connected) << inventory->status().error;
    }

    void TearDown() override {
        if (inventory) {
            for (const char* guest : {"usb-guest", "no-usb-guest"})
                remove_guest(loop.get(), *inventory, results, guest);
            inventory.reset();
        }
        if (!root.empty()) {
            if (HasFailure()) // QEMU's own words on why it failed
                for (const char* guest : {"usb-guest", "no-usb-guest"})
                    if (std::ifstream log{fmt::format("{}/log/qemu/{}.log", root, guest)})
                        std::cerr << guest << "'s QEMU log:\n" << log.rdbuf() << "\n";
            std::error_code ignored;
            std::filesystem::remove_all(root, ignored);
        }
    }

    void define(std::string_view name, std::string_view usb_model) {
        DomainPtr domain{virDomainDefineXML(inventory->connection(), tiny_guest(name, usb_model).c_str())};
        ASSERT_TRUE(domain) << last_libvirt_error();
        ASSERT_TRUE(pump_until(loop.get(), [&] { return inventory->find(name) != nullptr; }, 5s));
    }

    void start(const std::string& name) {
        const ActionResult started = run_action(loop.get(), *inventory, results, Action::Start, name, 30s);
        ASSERT_TRUE(started.ok) << started.error;
        ASSERT_TRUE(pump_until(loop.get(), [&] { return inventory->find(name)->state == GuestState::Running; }, 10s));
    }

    using Call = void (Inventory::*)(std::string, UsbHostdev, std::function<void(bool, std::string)>);
    std::pair<bool, std::string> call(Call method, const std::string& guest, UsbHostdev device) {
        std::optional<std::pair<bool, std::string>> result;
        (inventory.get()->*method)(guest, device, [&](bool ok, std::string error) { result.emplace(ok, std::move(error)); });
        EXPECT_FALSE(result.has_value()) << "never inside the call";
        EXPECT_TRUE(pump_until(loop.get(), [&] { return result.has_value(); }, 20s));
        return result.value_or(std::pair{false, "timed out"});
    }

    std::string root;
    bool under_umockdev = false;
    testing::LoopPtr loop = testing::make_loop();
    std::vector<ActionResult> results;
    std::unique_ptr<Inventory> inventory;
};

TEST_F(UsbHostdevQemuTest, AttachAndDetachExplainWhatToDo) {
    ASSERT_NO_FATAL_FAILURE(define("usb-guest", "qemu-xhci"));
    ASSERT_NO_FATAL_FAILURE(define("no-usb-guest", "none"));
    EXPECT_TRUE(inventory->find("usb-guest")->usb_controller);
    EXPECT_FALSE(inventory->find("no-usb-guest")->usb_controller);

    // Shut off: libvirt refuses a live attach.
    auto [ok, error] = call(&Inventory::attach_usb, "usb-guest", sandisk);
    EXPECT_FALSE(ok);
    EXPECT_THAT(error, StartsWith("cannot give USB device 0781:5581 (bus 1 device 5) to guest 'usb-guest': it is not "
                                  "running: start it first (libvirt: "));
    std::tie(ok, error) = call(&Inventory::detach_usb, "usb-guest", sandisk);
    EXPECT_TRUE(ok) << "a stopped guest has nothing to give back: " << error;

    ASSERT_NO_FATAL_FAILURE(start("usb-guest"));
    const GuestInfo before = *inventory->find("usb-guest");
    EXPECT_TRUE(before.usb_devices.empty());
    std::tie(ok, error) = call(&Inventory::attach_usb, "usb-guest", sandisk);
    EXPECT_FALSE(ok);
    EXPECT_THAT(error, StartsWith("cannot give USB device 0781:5581 (bus 1 device 5) to guest 'usb-guest': it is no "
                                  "longer plugged in: plug it in again (libvirt: "));
    // Without USB libvirt finds no device in sysfs. Under umockdev it finds the fake one, and QEMU's
    // device_add cannot open its node: unplugged between the two.
    EXPECT_THAT(error, HasSubstr(under_umockdev ? "device_add" : "/sys/bus/usb")) << "where libvirt stopped";
    EXPECT_EQ(*inventory->find("usb-guest"), before) << "nothing changed";

    std::tie(ok, error) = call(&Inventory::detach_usb, "usb-guest", sandisk);
    EXPECT_TRUE(ok) << "the guest does not have it: nothing to take back: " << error;
    EXPECT_EQ(*inventory->find("usb-guest"), before);

    ASSERT_NO_FATAL_FAILURE(start("no-usb-guest"));
    std::tie(ok, error) = call(&Inventory::attach_usb, "no-usb-guest", sandisk);
    EXPECT_FALSE(ok);
    EXPECT_EQ(error, "guest 'no-usb-guest' has no USB controller: cannot give it USB device 0781:5581 (bus 1 device "
                     "5); add one (<controller type='usb' model='qemu-xhci'/>) while it is shut off");

    std::tie(ok, error) = call(&Inventory::attach_usb, "nosuch", sandisk);
    EXPECT_FALSE(ok);
    EXPECT_THAT(error, HasSubstr("no guest named 'nosuch'"));
}

} // namespace
} // namespace phyllome::guestview
