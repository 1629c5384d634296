// UsbDevice's names and ids, the kind names the config takes, and reading ID_USB_INTERFACES.
#include <gtest/gtest.h>

#include "guestview/usb/usb_device.hpp"
#include "guestview/usb/usb_udev.hpp"

namespace phyllome::guestview::usb {
namespace {

TEST(UsbDeviceTest, NamesPreferVendorAndProduct) {
    UsbDevice device{.vendor = 0x0781, .product = 0x5581, .vendor_name = "SanDisk", .product_name = "Ultra"};
    EXPECT_EQ(device.name(), "SanDisk Ultra");
    device.product_name = "SanDisk Ultra Fit";
    EXPECT_EQ(device.name(), "SanDisk Ultra Fit");
    device.product_name = "";
    EXPECT_EQ(device.name(), "SanDisk device 5581");
    device.vendor_name = "";
    EXPECT_EQ(device.name(), "USB device 0781:5581");
    device.product_name = "Ultra";
    EXPECT_EQ(device.name(), "Ultra");
}

TEST(UsbDeviceTest, NamesUseTheBrandNotTheCompany) {
    auto named = [](std::string vendor, std::string product) {
        return UsbDevice{.vendor_name = std::move(vendor), .product_name = std::move(product)}.name();
    };
    EXPECT_EQ(named("SanDisk Corp.", "Ultra"), "SanDisk Ultra");
    EXPECT_EQ(named("Logitech, Inc.", "Unifying Receiver"), "Logitech Unifying Receiver");
    EXPECT_EQ(named("Yubico.com", "Yubikey 4/5 OTP+U2F+CCID"), "Yubico Yubikey 4/5 OTP+U2F+CCID");
    EXPECT_EQ(named("Realtek Semiconductor Corp.", "RTL8153 Gigabit Ethernet Adapter"),
              "Realtek Semiconductor RTL8153 Gigabit Ethernet Adapter");
    EXPECT_EQ(named("Genesys Logic, Inc.", ""), "Genesys Logic device 0000");
    EXPECT_EQ(named("Logitech, Inc.", "Logitech G502"), "Logitech G502"); // no brand twice
    EXPECT_EQ(named("Inc.", "Thing"), "Inc. Thing");                      // too short to cut
}

TEST(UsbDeviceTest, IdsAreLowerCaseHex) {
    EXPECT_EQ((UsbDevice{.vendor = 0x046D, .product = 0xC52B}.id()), "046d:c52b");
    EXPECT_EQ((UsbDevice{.vendor = 1, .product = 2}.id()), "0001:0002");
}

TEST(UsbDeviceTest, ParsesIds) {
    EXPECT_EQ(parse_usb_id("0781:5581"), (std::pair<std::uint16_t, std::uint16_t>{0x0781, 0x5581}));
    EXPECT_EQ(parse_usb_id("046D:C52B"), (std::pair<std::uint16_t, std::uint16_t>{0x046d, 0xc52b}));
    for (std::string_view bad : {"", "0781", "0781:558", "0781:55811", "0781-5581", "g781:5581", "+781:5581",
                                 "0781: 581", "07815581:"})
        EXPECT_EQ(parse_usb_id(bad), std::nullopt) << bad;
}

TEST(UsbDeviceTest, KindNamesRoundTrip) {
    for (unsigned bit = 0; bit < 10; ++bit) {
        auto kind = static_cast<UsbKind>(1u << bit);
        EXPECT_EQ(usb_kind_from_string(to_string(kind)), kind) << to_string(kind);
    }
    EXPECT_EQ(to_string(SmartCard), "smartcard");
    EXPECT_EQ(to_string(OtherHid), "hid");
    EXPECT_EQ(usb_kind_from_string("Keyboard"), std::nullopt);
    EXPECT_EQ(usb_kind_from_string("webcam"), std::nullopt);
}

TEST(UsbDeviceTest, DescribesKinds) {
    EXPECT_EQ(describe_kinds(0), "other");
    EXPECT_EQ(describe_kinds(Storage), "storage");
    EXPECT_EQ(describe_kinds(Keyboard | Mouse), "keyboard and mouse");
    EXPECT_EQ(describe_kinds(Video | Audio | SmartCard), "audio, video and smart card");
}

TEST(UsbDeviceTest, KindsFromIdUsbInterfaces) {
    EXPECT_EQ(kinds_from_interfaces(":030101:"), Keyboard);
    EXPECT_EQ(kinds_from_interfaces(":030102:"), Mouse);
    EXPECT_EQ(kinds_from_interfaces(":030101:030102:"), Keyboard | Mouse);
    EXPECT_EQ(kinds_from_interfaces(":080650:"), Storage);
    EXPECT_EQ(kinds_from_interfaces(":0e0100:0e0200:010100:010200:"), Video | Audio);
    EXPECT_EQ(kinds_from_interfaces(":070102:"), Printer);
    EXPECT_EQ(kinds_from_interfaces(":0b0000:"), SmartCard);
    EXPECT_EQ(kinds_from_interfaces(":ff0000:020201:"), Other);
    EXPECT_EQ(kinds_from_interfaces(""), 0u);
    EXPECT_EQ(kinds_from_interfaces(":zz:08065:"), 0u);
}

} // namespace
} // namespace phyllome::guestview::usb
