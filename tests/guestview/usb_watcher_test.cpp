// UsbWatcher on umockdev: the devices present at start, plugs and unplugs through the udev
// monitor on a wl_event_loop, names, kinds and seats. Runs with umockdev's preload (meson env).
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <wayland-server-core.h>

#include "guestview/usb/usb_watcher.hpp"
#include "tests/guestview/usb_testbed.hpp"
#include "tests/integration/loop_pump.hpp"

namespace phyllome::guestview::usb {
namespace {

using namespace std::chrono_literals;
using test::UsbFake;
using test::UsbTestbed;

struct LoopDeleter {
    void operator()(wl_event_loop* loop) const { wl_event_loop_destroy(loop); }
};

class UsbWatcherTest : public ::testing::Test {
protected:
    void SetUp() override {
        if (!UsbTestbed::preload_loaded())
            GTEST_SKIP() << "not running under umockdev's preload (LD_PRELOAD=libumockdev-preload.so.0): "
                            "the fake devices would not be seen";
        testbed_ = std::make_unique<UsbTestbed>();
    }

    void start() {
        std::string error;
        watcher_ = UsbWatcher::create(loop_.get(),
                                      {.added = [this](const UsbDevice& device) { added_.push_back(device); },
                                       .removed = [this](const UsbDevice& device) { removed_.push_back(device); }},
                                      error);
        ASSERT_TRUE(watcher_) << error;
    }

    // Plugs `fake` in and waits for the watcher to report it.
    UsbDevice plug(const UsbFake& fake) {
        std::size_t before = added_.size();
        last_syspath_ = testbed_->add(fake);
        EXPECT_TRUE(test::pump_loop_until(loop_.get(), [&] { return added_.size() > before; }, 5s))
            << "no `added` for " << fake.sysname;
        return added_.size() > before ? added_.back() : UsbDevice{};
    }

    UsbKinds kinds_of(const std::string& sysname, const std::string& interfaces, bool as_children = false) {
        UsbFake fake{.interfaces = interfaces, .interfaces_as_children = as_children, .sysname = sysname};
        return plug(fake).kinds;
    }

    std::unique_ptr<wl_event_loop, LoopDeleter> loop_{wl_event_loop_create()};
    std::unique_ptr<UsbTestbed> testbed_;
    std::unique_ptr<UsbWatcher> watcher_;
    std::vector<UsbDevice> added_;
    std::vector<UsbDevice> removed_;
    std::string last_syspath_;
};

TEST_F(UsbWatcherTest, ListsTheDevicesPresentAtStartBySysnameWithoutCallbacks) {
    testbed_->add_quietly({.vendor = 0x046d, .product = 0xc52b, .vendor_name = "Logitech, Inc.",
                           .product_name = "Unifying Receiver", .interfaces = ":030101:030102:", .address = 5,
                           .sysname = "1-2"});
    testbed_->add_quietly({.serial = "4C530001", .vendor_name = "SanDisk Corp.", .product_name = "Ultra",
                           .bus = 2, .address = 3, .sysname = "2-1"});
    testbed_->add_quietly({.vendor = 0x1d6b, .product = 0x0002, .device_class = "09", .sysname = "usb1"});
    start();
    ASSERT_EQ(watcher_->devices().size(), 2u);
    EXPECT_EQ(watcher_->devices()[0].sysname, "1-2");
    EXPECT_EQ(watcher_->devices()[0].kinds, Keyboard | Mouse);
    const UsbDevice& disk = watcher_->devices()[1];
    EXPECT_EQ(disk.sysname, "2-1");
    EXPECT_EQ(disk.id(), "0781:5581");
    EXPECT_EQ(disk.bus, 2);
    EXPECT_EQ(disk.address, 3);
    EXPECT_EQ(disk.serial, "4C530001");
    EXPECT_EQ(disk.name(), "SanDisk Ultra");
    ASSERT_NE(watcher_->find("2-1"), nullptr);
    EXPECT_EQ(*watcher_->find("2-1"), disk);
    EXPECT_EQ(watcher_->find("usb1"), nullptr);
    test::pump_loop(loop_.get(), 50ms);
    EXPECT_TRUE(added_.empty());
}

TEST_F(UsbWatcherTest, APlugIsReportedWithTheHwdbNames) {
    start();
    UsbDevice device = plug({.vendor = 0x0781, .product = 0x5581, .serial = "AA01", .vendor_name = "SanDisk Corp.",
                             .product_name = "Ultra", .manufacturer = "  SanDisk'", .product_string = " Ultra USB 3.0",
                             .bus = 3, .address = 7, .sysname = "3-4.1"});
    EXPECT_EQ(device.sysname, "3-4.1");
    EXPECT_EQ(device.bus, 3);
    EXPECT_EQ(device.address, 7);
    EXPECT_EQ(device.vendor, 0x0781);
    EXPECT_EQ(device.product, 0x5581);
    EXPECT_EQ(device.serial, "AA01");
    EXPECT_EQ(device.vendor_name, "SanDisk Corp.");
    EXPECT_EQ(device.product_name, "Ultra");
    EXPECT_EQ(device.kinds, Storage);
    EXPECT_EQ(device.seat, "seat0");
    ASSERT_EQ(watcher_->devices().size(), 1u);
    EXPECT_EQ(watcher_->devices().front(), device);
}

TEST_F(UsbWatcherTest, WithoutHwdbNamesTheDevicesOwnStringsNameIt) {
    start();
    UsbDevice device = plug({.vendor = 0x1234, .product = 0xabcd, .manufacturer = " Acme ",
                             .product_string = "Gadget\n", .sysname = "1-3"});
    EXPECT_EQ(device.vendor_name, "Acme");
    EXPECT_EQ(device.product_name, "Gadget");
    EXPECT_EQ(device.name(), "Acme Gadget");
}

TEST_F(UsbWatcherTest, ADeviceWithoutAnyNameIsNamedByItsId) {
    start();
    UsbDevice device = plug({.vendor = 0x1234, .product = 0xabcd, .interfaces = ":ff0000:", .sysname = "1-3"});
    EXPECT_EQ(device.vendor_name, "");
    EXPECT_EQ(device.product_name, "");
    EXPECT_EQ(device.name(), "USB device 1234:abcd");
    EXPECT_EQ(device.kinds, Other);
}

TEST_F(UsbWatcherTest, AnUnplugReportsTheDeviceAsItWasListed) {
    start();
    UsbFake fake{.serial = "S1", .vendor_name = "SanDisk Corp.", .product_name = "Ultra", .sysname = "1-1"};
    UsbDevice listed = plug(fake);
    ASSERT_EQ(watcher_->devices().size(), 1u);
    testbed_->remove(last_syspath_);
    ASSERT_TRUE(test::pump_loop_until(loop_.get(), [&] { return !removed_.empty(); }, 5s));
    EXPECT_EQ(removed_.front(), listed);
    EXPECT_TRUE(watcher_->devices().empty());
    EXPECT_EQ(watcher_->find("1-1"), nullptr);
}

TEST_F(UsbWatcherTest, HubsAreIgnored) {
    start();
    testbed_->add({.vendor = 0x05e3, .product = 0x0610, .product_name = "Hub", .interfaces = ":090000:",
                   .device_class = "09", .sysname = "1-5"});
    // The next device's `added` proves the hub's event was read before it.
    UsbDevice device = plug({.sysname = "1-5.1"});
    EXPECT_EQ(device.sysname, "1-5.1");
    ASSERT_EQ(added_.size(), 1u);
    EXPECT_EQ(watcher_->devices().size(), 1u);
    EXPECT_EQ(watcher_->find("1-5"), nullptr);
}

TEST_F(UsbWatcherTest, KindsComeFromTheInterfaces) {
    start();
    EXPECT_EQ(kinds_of("1-1", ":030101:"), Keyboard);
    EXPECT_EQ(kinds_of("1-2", ":030102:"), Mouse);
    EXPECT_EQ(kinds_of("1-3", ":030101:030102:030000:"), Keyboard | Mouse);
    EXPECT_EQ(kinds_of("1-4", ":080650:"), Storage);
    EXPECT_EQ(kinds_of("1-5", ":0e0100:0e0200:010100:010200:"), Video | Audio);
    EXPECT_EQ(kinds_of("1-6", ":030000:"), OtherHid);
    EXPECT_EQ(kinds_of("1-7", ":e00101:"), Wireless);
}

TEST_F(UsbWatcherTest, WithoutIdUsbInterfacesKindsComeFromTheInterfaceDevices) {
    start();
    EXPECT_EQ(kinds_of("1-1", ":030101:", true), Keyboard);
    EXPECT_EQ(kinds_of("1-2", ":030101:030102:", true), Keyboard | Mouse);
    EXPECT_EQ(kinds_of("1-3", ":0e0100:0e0200:", true), Video);
}

TEST_F(UsbWatcherTest, TheSeatIsUdevsIdSeat) {
    start();
    EXPECT_EQ(plug({.seat = "seat1", .sysname = "1-1"}).seat, "seat1");
    EXPECT_EQ(plug({.sysname = "1-2"}).seat, "seat0");
}

TEST_F(UsbWatcherTest, EventsArriveOnlyThroughTheEventLoop) {
    start();
    testbed_->add({.sysname = "1-1"});
    EXPECT_TRUE(added_.empty());
    EXPECT_TRUE(watcher_->devices().empty());
    ASSERT_TRUE(test::pump_loop_until(loop_.get(), [&] { return !added_.empty(); }, 5s));
    EXPECT_EQ(watcher_->devices().size(), 1u);
}

TEST_F(UsbWatcherTest, AChangeUpdatesAListedDevicesNamesWithoutANewAdded) {
    start();
    std::string syspath = testbed_->add({.interfaces = "", .sysname = "1-1"});
    ASSERT_TRUE(test::pump_loop_until(loop_.get(), [&] { return !added_.empty(); }, 5s));
    EXPECT_EQ(added_.front().name(), "USB device 0781:5581");
    testbed_->set_property(syspath, "ID_VENDOR_FROM_DATABASE", "SanDisk Corp.");
    testbed_->set_property(syspath, "ID_MODEL_FROM_DATABASE", "Ultra");
    testbed_->set_property(syspath, "ID_USB_INTERFACES", ":080650:");
    testbed_->uevent(syspath, "change");
    ASSERT_TRUE(test::pump_loop_until(
        loop_.get(), [&] { return watcher_->find("1-1") && watcher_->find("1-1")->product_name == "Ultra"; }, 5s));
    EXPECT_EQ(watcher_->find("1-1")->kinds, Storage);
    EXPECT_EQ(added_.size(), 1u);
    EXPECT_TRUE(removed_.empty());
}

TEST_F(UsbWatcherTest, AnAddForAListedPortWithANewAddressIsAnUnplugAndAPlug) {
    start();
    UsbDevice first = plug({.vendor_name = "SanDisk Corp.", .product_name = "Ultra", .address = 2, .sysname = "1-1"});
    testbed_->set_attribute(last_syspath_, "devnum", "9");
    testbed_->set_property(last_syspath_, "ID_MODEL_FROM_DATABASE", "Extreme");
    testbed_->uevent(last_syspath_, "add");
    ASSERT_TRUE(test::pump_loop_until(loop_.get(), [&] { return added_.size() == 2; }, 5s));
    ASSERT_EQ(removed_.size(), 1u);
    EXPECT_EQ(removed_.front(), first);
    EXPECT_EQ(added_.back().address, 9);
    EXPECT_EQ(added_.back().product_name, "Extreme");
    ASSERT_EQ(watcher_->devices().size(), 1u);
    EXPECT_EQ(watcher_->devices().front(), added_.back());
}

TEST_F(UsbWatcherTest, AWatcherMayBeDestroyedInsideItsCallback) {
    std::string error;
    watcher_ = UsbWatcher::create(loop_.get(),
                                  {.added = [this](const UsbDevice& device) {
                                      added_.push_back(device);
                                      watcher_.reset();
                                  }},
                                  error);
    ASSERT_TRUE(watcher_) << error;
    testbed_->add({.sysname = "1-1"});
    testbed_->add({.sysname = "1-2"});
    ASSERT_TRUE(test::pump_loop_until(loop_.get(), [&] { return !added_.empty(); }, 5s));
    test::pump_loop(loop_.get(), 50ms);
    EXPECT_EQ(added_.size(), 1u);
    EXPECT_EQ(watcher_, nullptr);
}

} // namespace
} // namespace phyllome::guestview::usb
