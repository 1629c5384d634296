#include "guestview/usb/usb_device.hpp"

#include <array>
#include <charconv>
#include <utility>
#include <vector>

#include <fmt/format.h>

namespace phyllome::guestview::usb {
namespace {

struct KindName {
    UsbKind kind;
    std::string_view config_name; // what [usb] ask_first takes
    std::string_view described;   // what a notice says
};

constexpr std::array<KindName, 10> kind_names{{
    {Keyboard, "keyboard", "keyboard"},
    {Mouse, "mouse", "mouse"},
    {Storage, "storage", "storage"},
    {Audio, "audio", "audio"},
    {Video, "video", "video"},
    {Printer, "printer", "printer"},
    {Wireless, "wireless", "wireless"},
    {SmartCard, "smartcard", "smart card"},
    {OtherHid, "hid", "other HID"},
    {Other, "other", "other"},
}};

// Whether `text` starts with `prefix` as a whole word, ignoring case: "Logitech USB Receiver"
// already names "Logitech".
bool starts_with_word(std::string_view text, std::string_view prefix) {
    if (prefix.empty() || text.size() < prefix.size())
        return false;
    for (std::size_t i = 0; i < prefix.size(); ++i) {
        auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; };
        if (lower(text[i]) != lower(prefix[i]))
            return false;
    }
    return text.size() == prefix.size() || text[prefix.size()] == ' ';
}

std::optional<std::uint16_t> parse_hex4(std::string_view text) {
    if (text.size() != 4)
        return std::nullopt;
    unsigned value = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value, 16);
    if (error != std::errc() || end != text.data() + text.size())
        return std::nullopt;
    return static_cast<std::uint16_t>(value);
}

} // namespace

std::string_view to_string(UsbKind kind) {
    for (const KindName& entry : kind_names)
        if (entry.kind == kind)
            return entry.config_name;
    return "other";
}

std::optional<UsbKind> usb_kind_from_string(std::string_view name) {
    for (const KindName& entry : kind_names)
        if (entry.config_name == name)
            return entry.kind;
    return std::nullopt;
}

std::string describe_kinds(UsbKinds kinds) {
    std::vector<std::string_view> parts;
    for (const KindName& entry : kind_names)
        if (kinds & entry.kind)
            parts.push_back(entry.described);
    if (parts.empty())
        return "other";
    std::string text(parts.front());
    for (std::size_t i = 1; i < parts.size(); ++i)
        text += fmt::format("{}{}", i + 1 == parts.size() ? " and " : ", ", parts[i]);
    return text;
}

// "SanDisk Corp." -> "SanDisk", "Logitech, Inc." -> "Logitech", "Yubico.com" -> "Yubico": the
// hwdb's company names are long for a notice, and people call devices by the brand.
std::string short_vendor(std::string name) {
    static constexpr std::string_view suffixes[] = {
        " Corporation", " Corp.", " Corp", " Inc.", " Inc", " Co., Ltd.", " Co., Ltd", " Co.,Ltd.", " Co.", " Ltd.",
        " Ltd", " Limited", " GmbH", " AG", " S.A.", " B.V.", " LLC", " International", " Technology", " Technologies",
        ".com"};
    for (bool again = true; again;) {
        again = false;
        while (!name.empty() && (name.back() == ',' || name.back() == ' '))
            name.pop_back();
        for (std::string_view suffix : suffixes)
            if (name.size() > suffix.size() + 2 && name.ends_with(suffix)) {
                name.resize(name.size() - suffix.size());
                again = true;
            }
    }
    return name;
}

std::string UsbDevice::name() const {
    const std::string brand = short_vendor(vendor_name);
    if (!product_name.empty()) {
        if (brand.empty() || starts_with_word(product_name, brand) || starts_with_word(product_name, vendor_name))
            return product_name;
        return fmt::format("{} {}", brand, product_name);
    }
    if (!brand.empty())
        return fmt::format("{} device {:04x}", brand, product);
    return fmt::format("USB device {}", id());
}

std::string UsbDevice::id() const { return fmt::format("{:04x}:{:04x}", vendor, product); }

std::optional<std::pair<std::uint16_t, std::uint16_t>> parse_usb_id(std::string_view text) {
    if (text.size() != 9 || text[4] != ':')
        return std::nullopt;
    std::optional<std::uint16_t> vendor = parse_hex4(text.substr(0, 4));
    std::optional<std::uint16_t> product = parse_hex4(text.substr(5));
    if (!vendor || !product)
        return std::nullopt;
    return std::pair{*vendor, *product};
}

} // namespace phyllome::guestview::usb
