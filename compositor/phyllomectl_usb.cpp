#include "compositor/phyllomectl_usb.hpp"

#include <cstring>
#include <vector>

namespace phyllome::compositor::ctl {

const char* usb_usage() {
    return "  usb [--json]        the host's USB devices: DEVICE (port), id, name, what it is,\n"
           "                      who has it, what the policy says (* Host+U acts on it)\n"
           "  usb attach NAME DEVICE [--force]\n"
           "                      give a USB device to the running guest NAME (until it stops,\n"
           "                      the device is unplugged or `usb detach`); DEVICE is its port\n"
           "                      (1-2), id (0781:5581), serial or name; --force for the host's\n"
           "                      keyboards and mice\n"
           "  usb detach DEVICE   take a USB device back from the guest that has it\n"
           "  usb remember NAME DEVICE always|never|forget\n"
           "                      what NAME remembers of a device (its libvirt metadata): always\n"
           "                      give it when both are here, never offer it, or forget\n";
}

std::optional<std::variant<control::Request, std::string>> parse_usb_command(int argc, char** argv) {
    if (argc < 2 || std::strcmp(argv[1], "usb") != 0)
        return std::nullopt;
    std::vector<std::string> words;
    bool json = false, force = false;
    for (int i = 2; i < argc; ++i) {
        if (std::strcmp(argv[i], "--json") == 0)
            json = true;
        else if (std::strcmp(argv[i], "--force") == 0)
            force = true;
        else if (argv[i][0] == '-')
            return std::string("usb: unknown option ") + argv[i];
        else
            words.emplace_back(argv[i]);
    }
    control::Request r;
    const std::string sub = words.empty() ? "list" : words[0];
    if (sub == "list") {
        if (words.size() > 1)
            return std::string("usb list takes only --json");
        r.verb = json ? control::Request::Verb::UsbJson : control::Request::Verb::Usb;
        return r;
    }
    if (sub == "attach") {
        if (words.size() != 3)
            return std::string("usage: phyllomectl usb attach NAME DEVICE [--force]");
        r.verb = control::Request::Verb::UsbAttach;
        r.guest = words[1];
        r.options["device"] = words[2];
        if (force)
            r.options["force"] = "1";
        return r;
    }
    if (sub == "detach") {
        if (words.size() != 2)
            return std::string("usage: phyllomectl usb detach DEVICE");
        r.verb = control::Request::Verb::UsbDetach;
        r.options["device"] = words[1];
        return r;
    }
    if (sub == "remember") {
        if (words.size() != 4 || (words[3] != "always" && words[3] != "never" && words[3] != "forget"))
            return std::string("usage: phyllomectl usb remember NAME DEVICE always|never|forget");
        r.verb = control::Request::Verb::UsbRemember;
        r.guest = words[1];
        r.options["device"] = words[2];
        r.options["choice"] = words[3];
        return r;
    }
    return "usb: unknown command '" + sub + "' (list, attach, detach, remember)";
}

} // namespace phyllome::compositor::ctl
