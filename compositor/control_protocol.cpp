#include "compositor/control_protocol.hpp"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <vector>

#include <fmt/format.h>

#include "guestview/percent_decoding.hpp"

namespace phyllome::compositor::control {

std::variant<Request, std::string> parse_request(std::string_view line) {
    if (line.size() > max_request)
        return std::string("request too long");
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r'))
        line.remove_suffix(1);
    auto space = line.find(' ');
    std::string_view verb = line.substr(0, space);
    std::string_view arg = space == std::string_view::npos ? std::string_view{} : line.substr(space + 1);
    for (char c : line)
        if (static_cast<unsigned char>(c) < 0x20)
            return std::string("request contains control characters");

    Request r;
    if (verb == "status" && arg.empty()) {
        r.verb = Request::Verb::Status;
    } else if (verb == "status" && arg == "--json") {
        r.verb = Request::Verb::StatusJson;
    } else if (verb == "quit" && arg.empty()) {
        r.verb = Request::Verb::Quit;
    } else if (verb == "lock" && arg.empty()) {
        r.verb = Request::Verb::Lock;
    } else if (verb == "overlay" && arg.empty()) {
        r.verb = Request::Verb::Overlay;
    } else if (verb == "next" && arg.empty()) {
        r.verb = Request::Verb::Next;
    } else if (verb == "prev" && arg.empty()) {
        r.verb = Request::Verb::Prev;
    } else if (verb == "start" || verb == "shutdown" || verb == "destroy" || verb == "remove" || verb == "show" ||
               verb == "screenshot") {
        if (arg.empty())
            return fmt::format("{} needs a guest name", verb);
        r.verb = verb == "start"      ? Request::Verb::Start
                 : verb == "shutdown" ? Request::Verb::Shutdown
                 : verb == "show"     ? Request::Verb::Show
                 : verb == "screenshot" ? Request::Verb::Screenshot
                 : verb == "remove"   ? Request::Verb::Remove
                                      : Request::Verb::Destroy;
        r.guest = std::string(arg);
        // "screenshot head=N NAME": the guest's head N.
        if (r.verb == Request::Verb::Screenshot && arg.starts_with("head=")) {
            const auto sp = arg.find(' ');
            if (sp == std::string_view::npos)
                return std::string("screenshot needs a guest name");
            r.options["head"] = std::string(arg.substr(5, sp - 5));
            r.guest = std::string(arg.substr(sp + 1));
        }
    } else if (verb == "identity") {
        // "identity [slot=N|none] [colour=#rrggbb|none] NAME": options first, so names may hold spaces.
        r.verb = Request::Verb::Identity;
        std::string_view rest = arg;
        for (;;) {
            auto sp = rest.find(' ');
            std::string_view word = rest.substr(0, sp);
            if (word.starts_with("slot="))
                r.slot = std::string(word.substr(5));
            else if (word.starts_with("colour=") || word.starts_with("color="))
                r.colour = std::string(word.substr(word.find('=') + 1));
            else
                break;
            if (sp == std::string_view::npos) {
                rest = {};
                break;
            }
            rest = rest.substr(sp + 1);
        }
        if (rest.empty())
            return std::string("identity needs a guest name");
        if (!r.slot && !r.colour)
            return std::string("identity needs slot=N or colour=#rrggbb (or =none to clear)");
        r.guest = std::string(rest);
    } else if (verb == "adopt") {
        if (arg.empty())
            return std::string("adopt needs a guest name");
        r.verb = Request::Verb::Adopt;
        r.guest = std::string(arg);
    } else if (verb == "eject") {
        if (arg.empty())
            return std::string("eject needs a guest name");
        r.verb = Request::Verb::Eject;
        r.guest = std::string(arg);
    } else if (verb == "create") {
        // "create key=value… NAME": values percent-encoded, so paths may hold spaces.
        r.verb = Request::Verb::Create;
        std::string_view rest = take_options(arg, r.options);
        if (rest.empty())
            return std::string("create needs a guest name");
        r.guest = std::string(rest);
    } else if (verb == "output") {
        // "output add WIDTHxHEIGHT" / "output remove NAME"
        auto sp = arg.find(' ');
        std::string_view sub = arg.substr(0, sp);
        std::string_view what = sp == std::string_view::npos ? std::string_view{} : arg.substr(sp + 1);
        if (sub == "add") {
            int w = 0, h = 0;
            char tail = 0;
            if (what.empty() ||
                std::sscanf(std::string(what).c_str(), "%dx%d%c", &w, &h, &tail) != 2 || w <= 0 || h <= 0)
                return std::string("output add needs a size like 1280x800");
            r.verb = Request::Verb::OutputAdd;
            r.width = w;
            r.height = h;
        } else if (sub == "remove") {
            if (what.empty() || what.find(' ') != std::string_view::npos)
                return std::string("output remove needs an output name (see status)");
            r.verb = Request::Verb::OutputRemove;
            r.output = std::string(what);
        } else {
            return std::string("output takes add WIDTHxHEIGHT or remove NAME");
        }
    } else if (auto job = parse_job_request(verb, arg)) {
        return std::move(*job);
    } else if (auto usb = parse_usb_request(verb, arg)) {
        return std::move(*usb);
    } else if (verb.empty()) {
        return std::string("empty request");
    } else {
        return fmt::format("unknown command '{}' (known: status [--json], start NAME, shutdown NAME, destroy NAME, remove NAME, show NAME, overlay, next, prev, screenshot NAME, identity [slot=N] [colour=#rrggbb] NAME, adopt NAME, eject NAME, create NAME --iso PATH, duplicate, snapshot, backup, restore, export, import, move, jobs, cancel ID, usb [--json], usb-attach, usb-detach, usb-remember, output add WxH, output remove NAME, lock, quit)",
                           verb);
    }
    return r;
}

std::string format_request(const Request& r) {
    switch (r.verb) {
    case Request::Verb::Status: return "status\n";
    case Request::Verb::StatusJson: return "status --json\n";
    case Request::Verb::Start: return "start " + r.guest + "\n";
    case Request::Verb::Shutdown: return "shutdown " + r.guest + "\n";
    case Request::Verb::Destroy: return "destroy " + r.guest + "\n";
    case Request::Verb::Remove: return "remove " + r.guest + "\n";
    case Request::Verb::Show: return "show " + r.guest + "\n";
    case Request::Verb::Screenshot:
        if (auto head = r.options.find("head"); head != r.options.end())
            return "screenshot head=" + head->second + " " + r.guest + "\n";
        return "screenshot " + r.guest + "\n";
    case Request::Verb::Identity: {
        std::string line = "identity";
        if (r.slot)
            line += " slot=" + *r.slot;
        if (r.colour)
            line += " colour=" + *r.colour;
        return line + " " + r.guest + "\n";
    }
    case Request::Verb::Adopt: return "adopt " + r.guest + "\n";
    case Request::Verb::Eject: return "eject " + r.guest + "\n";
    case Request::Verb::Create: {
        return format_with_options("create", r);
    }
    case Request::Verb::Overlay: return "overlay\n";
    case Request::Verb::Next: return "next\n";
    case Request::Verb::Prev: return "prev\n";
    case Request::Verb::Quit: return "quit\n";
    case Request::Verb::Lock: return "lock\n";
    case Request::Verb::OutputAdd: return fmt::format("output add {}x{}\n", r.width, r.height);
    case Request::Verb::OutputRemove: return "output remove " + r.output + "\n";
    case Request::Verb::JobStart:
    case Request::Verb::Jobs:
    case Request::Verb::JobsJson:
    case Request::Verb::JobQuery:
    case Request::Verb::JobCancel:
    case Request::Verb::Snapshots: return format_job_request(r);
    case Request::Verb::Usb:
    case Request::Verb::UsbJson:
    case Request::Verb::UsbAttach:
    case Request::Verb::UsbDetach:
    case Request::Verb::UsbRemember: return format_usb_request(r);
    }
    return "\n";
}

std::string format_with_options(std::string_view verb, const Request& r) {
    std::string line(verb);
    for (const auto& [k, v] : r.options)
        line += " " + k + "=" + encode_value(v);
    if (!r.guest.empty())
        line += " " + r.guest;
    return line + "\n";
}

std::string_view take_options(std::string_view words, std::map<std::string, std::string>& options) {
    while (!words.empty()) {
        auto sp = words.find(' ');
        std::string_view word = words.substr(0, sp);
        auto eq = word.find('=');
        if (eq == std::string_view::npos)
            break;
        options[std::string(word.substr(0, eq))] = decode_value(word.substr(eq + 1));
        words = sp == std::string_view::npos ? std::string_view{} : words.substr(sp + 1);
    }
    return words;
}

std::string encode_value(std::string_view value) {
    std::string out;
    for (unsigned char c : value) {
        if (c <= ' ' || c == '%' || c == '=' || c >= 0x7f)
            out += fmt::format("%{:02X}", c);
        else
            out += static_cast<char>(c);
    }
    return out;
}


// "%XY" with two hex digits is one byte; anything else, a lone '%' included, stands for itself.
std::string decode_value(std::string_view value) { return guestview::percent_decode(value); }

std::string socket_path_for(std::string_view runtime_dir, std::string_view wayland_display) {
    return fmt::format("{}/phyllome-shell.{}.sock", runtime_dir, wayland_display);
}

std::optional<std::string> find_socket(std::string& error) {
    if (const char* s = std::getenv("PHYLLOME_SOCKET"); s && *s)
        return std::string(s);
    const char* rt = std::getenv("XDG_RUNTIME_DIR");
    if (!rt || !*rt) {
        error = "neither PHYLLOME_SOCKET nor XDG_RUNTIME_DIR is set";
        return std::nullopt;
    }
    std::vector<std::string> found;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(rt, ec)) {
        auto name = e.path().filename().string();
        if (name.starts_with("phyllome-shell.") && name.ends_with(".sock") && e.is_socket(ec))
            found.push_back(e.path().string());
    }
    if (found.size() == 1)
        return found.front();
    error = found.empty() ? fmt::format("no phyllome-shell socket in {}: is the shell running?", rt)
                          : fmt::format("{} phyllome-shell sockets in {}: set PHYLLOME_SOCKET to choose one",
                                        found.size(), rt);
    return std::nullopt;
}

} // namespace phyllome::compositor::control
