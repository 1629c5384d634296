#include "compositor/usb_status.hpp"

#include <fmt/format.h>

#include "compositor/status.hpp"

namespace phyllome::compositor {

namespace usb = guestview::usb;

namespace {

std::string kinds_json(usb::UsbKinds kinds) {
    std::string o = "[";
    bool first = true;
    for (unsigned bit = 1; bit <= usb::Other; bit <<= 1)
        if (kinds & bit) {
            o += fmt::format("{}\"{}\"", first ? "" : ", ", usb::to_string(static_cast<usb::UsbKind>(bit)));
            first = false;
        }
    return o + "]";
}

std::string or_null(const std::string& text) { return text.empty() ? std::string("null") : json_escape(text); }

} // namespace

std::string usb_json(const std::vector<UsbEntry>& entries) {
    std::string o = "[";
    for (std::size_t i = 0; i < entries.size(); ++i) {
        const auto& e = entries[i];
        const auto& d = e.device;
        o += fmt::format("{}{{\"device\": {}, \"id\": \"{}\", \"serial\": {}, \"name\": {}, \"kinds\": {}, \"bus\": {}, "
                         "\"address\": {}, \"seat\": {}, \"owner\": {}, \"busy\": {}, \"policy\": {}, \"offered\": {}}}",
                         i ? ", " : "", json_escape(d.sysname), d.id(), or_null(d.serial), json_escape(d.name()),
                         kinds_json(d.kinds), d.bus, d.address, json_escape(d.seat), or_null(e.owner), or_null(e.busy),
                         or_null(e.policy), e.offered);
    }
    return o + "]";
}

std::string usb_text(const std::vector<UsbEntry>& entries, const std::string& problem) {
    if (!problem.empty())
        return fmt::format("USB devices are not watched: {}\n", problem);
    if (entries.empty())
        return "no USB devices plugged in\n";
    std::string o;
    for (const auto& e : entries) {
        const auto& d = e.device;
        std::string holder = e.busy.empty() ? (e.owner.empty() ? "host" : e.owner) : e.busy + " " + e.owner;
        o += fmt::format("{:<8}  {}  {} ({})  {}{}{}\n", d.sysname, d.id(), d.name(), usb::describe_kinds(d.kinds),
                         holder, e.policy.empty() ? "" : "  " + e.policy, e.offered ? "  *" : "");
    }
    return o;
}

} // namespace phyllome::compositor
