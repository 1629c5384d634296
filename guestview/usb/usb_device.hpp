// A USB device plugged into the host, as udev describes it: what the shell offers to guests
// (issue 18). Hubs and root hubs are never listed.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace phyllome::guestview::usb {

// What a device is for, from its interfaces (udev's ID_USB_INTERFACES, else the interfaces'
// class files): a device can be several at once (a keyboard with a touchpad is both).
enum UsbKind : unsigned {
    Keyboard = 1u << 0,  // HID boot keyboard, or an input device udev tags ID_INPUT_KEYBOARD
    Mouse = 1u << 1,     // HID boot mouse, or ID_INPUT_MOUSE / ID_INPUT_TOUCHPAD
    Storage = 1u << 2,   // mass storage (08)
    Audio = 1u << 3,     // 01
    Video = 1u << 4,     // 0e: webcams
    Printer = 1u << 5,   // 07
    Wireless = 1u << 6,  // e0: Bluetooth dongles and the like
    SmartCard = 1u << 7, // 0b
    OtherHid = 1u << 8,  // 03 that is neither keyboard nor mouse: game pads, security keys
    Other = 1u << 9,     // anything else (vendor specific, serial adapters, ...)
};
using UsbKinds = unsigned;

// "keyboard", "mouse", "storage", "audio", "video", "printer", "wireless", "smartcard", "hid",
// "other": the names the config's [usb] ask_first takes.
std::string_view to_string(UsbKind kind);
std::optional<UsbKind> usb_kind_from_string(std::string_view name);
// "keyboard and mouse", "storage"; "other" for 0.
std::string describe_kinds(UsbKinds kinds);

struct UsbDevice {
    std::string sysname;     // "1-2.3": the port path; the same while it stays in that port
    int bus = 0;             // busnum and devnum: libvirt's <address bus= device=>; a new
    int address = 0;         // devnum on every plug
    std::uint16_t vendor = 0, product = 0;
    std::string serial;      // empty when it has none
    std::string vendor_name; // hwdb (ID_VENDOR_FROM_DATABASE), else its own string, else empty
    std::string product_name;
    UsbKinds kinds = 0;
    std::string seat = "seat0"; // udev's ID_SEAT

    // "SanDisk Ultra"; "SanDisk device 5581"; "USB device 0781:5581".
    std::string name() const;
    // "0781:5581", lower-case hex: the id the config and phyllomectl take.
    std::string id() const;
    bool operator==(const UsbDevice&) const = default;
};

// Parses "0781:5581" (case-insensitive, exactly 4+4 hex digits).
std::optional<std::pair<std::uint16_t, std::uint16_t>> parse_usb_id(std::string_view text);

} // namespace phyllome::guestview::usb
