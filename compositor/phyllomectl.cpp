// phyllomectl: controls a running phyllome-shell over its control socket.
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <variant>
#include <string>
#include <vector>

#include "build_config.h"
#include "compositor/control_protocol.hpp"
#include "compositor/phyllomectl_client.hpp"
#include "compositor/phyllomectl_jobs.hpp"
#include "compositor/phyllomectl_usb.hpp"

namespace {

using namespace phyllome::compositor;

void usage(FILE* to) {
    const char* text = "Usage: phyllomectl COMMAND\n"
               "\n"
               "  status [--json]     what the shell shows, the guests and the outputs\n"
               "  start NAME          start (or resume) a guest\n"
               "  shutdown NAME       ask a guest to shut down (ACPI)\n"
               "  destroy NAME        force a guest off\n"
               "  remove NAME         remove a shut-off guest with the disk the shell made for it\n"
               "  show NAME           show a running guest fullscreen\n"
               "  overlay             show the management overlay\n"
               "  next, prev          show the next or previous running guest\n"
               "  screenshot NAME FILE [--head N]\n"
               "                      save the guest's own screen (as QEMU sees it) to FILE;\n"
               "                      --head N: its head N (the one output N shows)\n"
               "  adopt NAME          switch a SPICE/VNC guest to the shell's display (next start)\n"
               "  eject NAME          take the installer ISO out of the guest's CD-ROM\n"
               "  create NAME --iso PATH [--os ID] [--memory MB] [--cpus N] [--disk-size GB] [--tcg]\n"
               "                      a new guest with the best machine model for the OS on the\n"
               "                      installer (libosinfo recognises it; --os forces one, as\n"
               "                      osinfo-query os names it); sizes default to what the OS recommends\n"
               "  identity [slot=N] [colour=#rrggbb] NAME\n"
               "                      the guest's number (Host+N) and colour, kept in its libvirt\n"
               "                      metadata; =none clears one\n"
               "%s"
               "%s"
               "  output add WIDTHxHEIGHT\n"
               "                      add an output (headless backend only, for tests and screenless hosts)\n"
               "  output remove NAME  remove an output by its name in status (headless backend only)\n"
               "  lock                lock the screen with the configured locker; answers once\n"
               "                      the session is locked, or why the locker failed\n"
               "  quit                end the phyllome-shell session\n"
               "\n"
               "The shell's socket is $PHYLLOME_SOCKET, else the one phyllome-shell.*.sock in $XDG_RUNTIME_DIR.\n"
               "Only the shell's own user may use it; the shell answers \"busy\" to more than 500 requests\n"
               "a second (after a burst of 1000) and closes a connection that sends no request within 2 s.\n";
    std::fprintf(to, text, ctl::job_usage(), ctl::usb_usage());
}

// create NAME --iso PATH [--os ID] [--disk-size GB] [--memory MB] [--cpus N] [--tcg]
std::variant<control::Request, std::string> parse_create(int argc, char** argv) {
    control::Request r;
    r.verb = control::Request::Verb::Create;
    for (int i = 2; i < argc; ++i) {
        std::string a = argv[i];
        auto value = [&](const char* key) -> bool {
            if (i + 1 >= argc)
                return false;
            r.options[key] = argv[++i];
            return true;
        };
        if (a == "--iso") {
            if (!value("iso"))
                return std::string("--iso needs a path");
            char resolved[PATH_MAX];
            if (realpath(r.options["iso"].c_str(), resolved))
                r.options["iso"] = resolved; // the shell's working directory is not ours
        } else if (a == "--os") {
            if (!value("os"))
                return std::string("--os needs an operating system's short id, e.g. win11 or debian13");
        } else if (a == "--disk-size") {
            if (!value("disk-size"))
                return std::string("--disk-size needs a size in GB");
        } else if (a == "--memory") {
            if (!value("memory"))
                return std::string("--memory needs a size in MB");
        } else if (a == "--cpus") {
            if (!value("cpus"))
                return std::string("--cpus needs a number");
        } else if (a == "--tcg") {
            // A new string moved in: GCC 12 at -O3 warns (-Wrestrict, a false positive) on assigning "1".
            r.options.insert_or_assign("tcg", std::string("1"));
        } else if (!a.empty() && a[0] == '-') {
            return "unknown option " + a;
        } else if (r.guest.empty()) {
            r.guest = a;
        } else {
            return "unexpected argument " + a;
        }
    }
    if (r.guest.empty())
        return std::string("create needs a guest name");
    if (!r.options.count("iso"))
        return std::string("create needs --iso PATH (the installer)");
    return r;
}

} // namespace

int main(int argc, char** argv) {
    if (argc < 2 || std::strcmp(argv[1], "-h") == 0 || std::strcmp(argv[1], "--help") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (std::strcmp(argv[1], "--version") == 0) {
        std::puts("phyllomectl " PHYLLOME_VERSION);
        return 0;
    }
    if (auto status = ctl::run_job_command(argc, argv))
        return *status;
    std::string line;
    std::string screenshot_file; // the last argument of "screenshot NAME FILE" stays here
    if (std::strcmp(argv[1], "screenshot") == 0) {
        // screenshot NAME FILE [--head N], --head anywhere after the verb
        std::vector<std::string> words;
        std::string head;
        for (int i = 2; i < argc; ++i) {
            if (std::strcmp(argv[i], "--head") == 0 && i + 1 < argc)
                head = argv[++i];
            else
                words.emplace_back(argv[i]);
        }
        if (words.size() < 2) {
            std::fprintf(stderr, "phyllomectl: screenshot needs a guest name and a file\n");
            return 2;
        }
        screenshot_file = words.back();
        line = "screenshot";
        if (!head.empty())
            line += " head=" + head;
        for (std::size_t i = 0; i + 1 < words.size(); ++i)
            line += " " + words[i];
    } else {
        for (int i = 1; i < argc; ++i) { // appended in place: GCC 12's -O3 -Wrestrict false positive on "x" + string
            if (i > 1)
                line += ' ';
            line += argv[i];
        }
    }
    std::variant<control::Request, std::string> parsed;
    if (std::strcmp(argv[1], "create") == 0) {
        parsed = parse_create(argc, argv);
    } else if (auto usb = ctl::parse_usb_command(argc, argv)) {
        parsed = std::move(*usb);
    } else {
        parsed = control::parse_request(line);
    }
    if (auto* err = std::get_if<std::string>(&parsed)) {
        std::fprintf(stderr, "phyllomectl: %s\n", err->c_str());
        return 2;
    }

    std::string error;
    auto path = control::find_socket(error);
    if (!path) {
        std::fprintf(stderr, "phyllomectl: %s\n", error.c_str());
        return 1;
    }
    const std::string request = control::format_request(std::get<control::Request>(parsed));
    // Starting a guest can take a while; give up after two minutes rather than hang forever.
    auto answer = ctl::exchange(*path, request, 120000, error);
    if (!answer) {
        std::fprintf(stderr, "phyllomectl: %s\n", error.c_str());
        return 1;
    }
    const bool ok = answer->ok;
    const std::string reply = (ok ? "ok\n" : "error\n") + answer->body;
    const auto nl = reply.find('\n');

    if (ok && !screenshot_file.empty()) {
        const auto mime_end = reply.find('\n', nl + 1);
        if (mime_end == std::string::npos) {
            std::fprintf(stderr, "phyllomectl: the shell sent no image\n");
            return 1;
        }
        FILE* out = std::fopen(screenshot_file.c_str(), "wb");
        const std::size_t size = reply.size() - mime_end - 1;
        if (!out || std::fwrite(reply.data() + mime_end + 1, 1, size, out) != size || std::fclose(out) != 0) {
            std::fprintf(stderr, "phyllomectl: cannot write %s: %s\n", screenshot_file.c_str(), std::strerror(errno));
            return 1;
        }
        std::printf("%s (%s, %zu bytes)\n", screenshot_file.c_str(), reply.substr(nl + 1, mime_end - nl - 1).c_str(), size);
        return 0;
    }
    std::fwrite(reply.data() + nl + 1, 1, reply.size() - nl - 1, ok ? stdout : stderr);
    return ok ? 0 : 1;
}
