// The control protocol's USB verbs (control_protocol.hpp describes their wire form).
#include <fmt/format.h>

#include "compositor/control_protocol.hpp"

namespace phyllome::compositor::control {

std::optional<std::variant<Request, std::string>> parse_usb_request(std::string_view verb, std::string_view arg) {
    Request r;
    if (verb == "usb") {
        if (!arg.empty() && arg != "--json")
            return std::string("usb takes only --json");
        r.verb = arg.empty() ? Request::Verb::Usb : Request::Verb::UsbJson;
        return r;
    }
    if (verb == "usb-attach")
        r.verb = Request::Verb::UsbAttach;
    else if (verb == "usb-detach")
        r.verb = Request::Verb::UsbDetach;
    else if (verb == "usb-remember")
        r.verb = Request::Verb::UsbRemember;
    else
        return std::nullopt;
    r.guest = std::string(take_options(arg, r.options));
    if (r.options["device"].empty())
        return fmt::format("{} needs device= (see usb)", verb);
    if (r.verb != Request::Verb::UsbDetach && r.guest.empty())
        return fmt::format("{} needs a guest name", verb);
    if (r.verb == Request::Verb::UsbRemember) {
        const std::string& c = r.options["choice"];
        if (c != "always" && c != "never" && c != "forget")
            return std::string("usb-remember needs choice=always, never or forget");
    }
    return r;
}

std::string format_usb_request(const Request& r) {
    switch (r.verb) {
    case Request::Verb::Usb: return "usb\n";
    case Request::Verb::UsbJson: return "usb --json\n";
    case Request::Verb::UsbAttach: return format_with_options("usb-attach", r);
    case Request::Verb::UsbDetach: return format_with_options("usb-detach", r);
    default: return format_with_options("usb-remember", r);
    }
}

} // namespace phyllome::compositor::control
