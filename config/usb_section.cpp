#include "config/usb_section.hpp"

#include <algorithm>
#include <optional>

#include <fmt/format.h>

namespace phyllome::config {

const std::vector<std::string>& usb_kind_names() {
    static const std::vector<std::string> names{"keyboard", "mouse",    "storage",   "audio", "video",
                                                "printer",  "wireless", "smartcard", "hid",   "other"};
    return names;
}

namespace detail {
namespace {

bool is_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

// "0781:5581", lower-cased.
Rule<std::string> usb_id() {
    return {[](const toml::node& node) -> std::optional<std::string> {
                const auto* text = node.as_string();
                if (!text)
                    return std::nullopt;
                std::string id = text->get();
                if (id.size() != 9 || id[4] != ':' || !std::all_of(id.begin(), id.begin() + 4, is_hex) ||
                    !std::all_of(id.begin() + 5, id.end(), is_hex))
                    return std::nullopt;
                std::transform(id.begin(), id.end(), id.begin(),
                               [](char c) { return (c >= 'A' && c <= 'F') ? static_cast<char>(c - 'A' + 'a') : c; });
                return id;
            },
            "must be a USB id, vendor and product in hex like \"0781:5581\" (as lsusb shows it)"};
}

Rule<std::vector<std::string>> usb_kinds() {
    std::string names;
    for (const std::string& name : usb_kind_names())
        names += fmt::format("{}\"{}\"", names.empty() ? "" : ", ", name);
    return {[](const toml::node& node) -> std::optional<std::vector<std::string>> {
                const toml::array* list = node.as_array();
                if (!list)
                    return std::nullopt;
                std::vector<std::string> kinds;
                for (const toml::node& entry : *list) {
                    const auto* text = entry.as_string();
                    if (!text || std::find(usb_kind_names().begin(), usb_kind_names().end(), text->get()) ==
                                     usb_kind_names().end())
                        return std::nullopt;
                    if (std::find(kinds.begin(), kinds.end(), text->get()) == kinds.end())
                        kinds.push_back(text->get());
                }
                return kinds;
            },
            fmt::format("must be a list of USB device kinds, each one of {}", names)};
}

// One [[usb.device]]; nullopt (reported) when it cannot be used as written.
std::optional<UsbDeviceRule> read_device(TableReader& reader) {
    UsbDeviceRule rule;
    bool usable = true;
    if (!reader.take("id")) {
        reader.report_missing("id", "every [[usb.device]] needs the device's id, like id = \"0781:5581\"");
        usable = false;
    } else if (std::optional<std::string> id = reader.get("id", usb_id())) {
        rule.id = std::move(*id);
    } else {
        usable = false;
    }
    reader.read("serial", rule.serial, rules::non_empty_string());
    bool has_always = reader.take("always") != nullptr;
    bool has_never = reader.take("never") != nullptr;
    std::optional<std::string> always = reader.get("always", rules::non_empty_string());
    std::optional<bool> never = reader.get("never", rules::boolean());
    if ((has_always && !always) || (has_never && !never)) {
        usable = false; // reported already
    } else if (always && never.value_or(false)) {
        reader.report_conflict("never", "a device is either always given to a guest or never: not both");
        usable = false;
    } else if (!always && !never.value_or(false)) {
        reader.report_missing("always", "every [[usb.device]] needs always = \"GUEST\" or never = true");
        usable = false;
    }
    rule.always = always.value_or("");
    rule.never = never.value_or(false);
    reader.warn_unknown_keys();
    return usable ? std::optional{rule} : std::nullopt;
}

void read_devices(const toml::node& node, const std::string& path, DiagnosticSink& sink,
                  std::vector<UsbDeviceRule>& result) {
    const toml::array* entries = node.as_array();
    if (!entries) {
        sink.error(node.source(), path,
                   fmt::format("must be a list of [[usb.device]] tables, got {}", describe(node)));
        return;
    }
    for (std::size_t index = 0; index < entries->size(); ++index) {
        const toml::node& entry = *entries->get(index);
        std::string entry_path = fmt::format("{}[{}]", path, index);
        if (const toml::table* table = entry.as_table()) {
            TableReader reader{*table, entry_path, sink};
            if (std::optional<UsbDeviceRule> rule = read_device(reader))
                result.push_back(std::move(*rule));
        } else {
            sink.error(entry.source(), entry_path, fmt::format("must be a table, got {}", describe(entry)));
        }
    }
}

} // namespace

void read_usb(TableReader& reader, DiagnosticSink& sink, UsbConfig& usb) {
    reader.read("key", usb.key, rules::optional_keysym_name());
    reader.read("ask_first", usb.ask_first, usb_kinds());
    if (const toml::node* devices = reader.take("device"))
        read_devices(*devices, reader.key_path("device"), sink, usb.devices);
}

} // namespace detail
} // namespace phyllome::config
