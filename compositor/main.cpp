// phyllome-shell: the host session of Phyllome OS.
#include <getopt.h>

#include <cstdarg>
#include <cstdio>
#include <cstdlib>

#include <fmt/format.h>

#include "build_config.h"
#include "compositor/process_stats.hpp"
#include "compositor/scheduling.hpp"
#include "compositor/server.hpp"
#include "config/log.hpp"
#include "guestview/guest_inventory.hpp"
#include "session/host_check.hpp"

namespace {

using namespace phyllome;

void usage(FILE* to) {
    std::fputs("Usage: phyllome-shell [options]\n"
               "\n"
               "  -c, --config FILE        read FILE instead of $XDG_CONFIG_HOME/phyllome/shell.toml\n"
               "                           or " PHYLLOME_SYSCONFDIR "/phyllome/shell.toml\n"
               "  -u, --libvirt-uri URI    libvirt connection (default: the config's, else qemu:///system\n"
               "                           when its socket exists, else the embedded qemu:///embed driver)\n"
               "      --display NAME=ADDR  also show a QEMU started by hand with -display dbus,p2p=on, at the\n"
               "                           D-Bus address ADDR (unix:path=...); may be repeated\n"
               "      --kiosk NAME         boot into one guest: start it, show only it, bring it back\n"
               "                           when it stops (kiosk.on_guest_exit)\n"
               "      --validate           check the config file and exit (0 when it has no errors)\n"
               "      --check              report whether this host can run guests (KVM, IOMMU, GPU,\n"
               "                           libvirt, QEMU) and exit: 0 when it can, 1 when it cannot\n"
               "      --json               with --check: print the report as one JSON object\n"
               "      --sysroot DIR        with --check: read /dev, /sys and /usr under DIR (for tests)\n"
               "  -d, --debug              log debug messages\n"
               "  -v, --version            print the version and exit\n"
               "  -h, --help               print this help and exit\n"
               "\n"
               "Run it from a VT (through seatd or logind), nested in a Wayland or X11 session, or with\n"
               "WLR_BACKENDS=headless WLR_RENDERER=pixman for tests. See phyllome-shell(1).\n",
               to);
}

void wlr_log_to_ours(wlr_log_importance importance, const char* fmt, va_list args) {
    // wlroots' info messages are developer detail; our own info log says what a user needs.
    const config::LogLevel level = importance == WLR_ERROR ? config::LogLevel::Error : config::LogLevel::Debug;
    if (!log::enabled(level))
        return;
    char buf[1024];
    std::vsnprintf(buf, sizeof buf, fmt, args);
    log::write(level, fmt::format("wlroots: {}", buf));
}

} // namespace

int main(int argc, char** argv) {
    std::string config_path, libvirt_uri;
    bool validate = false, debug = false, check = false, json = false;
    std::string sysroot;
    std::vector<compositor::ManualDisplay> displays;
    std::string kiosk;
    static const option long_options[] = {
        {"config", required_argument, nullptr, 'c'}, {"libvirt-uri", required_argument, nullptr, 'u'},
        {"validate", no_argument, nullptr, 'V'},     {"debug", no_argument, nullptr, 'd'},
        {"display", required_argument, nullptr, 'D'},
        {"kiosk", required_argument, nullptr, 'k'},
        {"check", no_argument, nullptr, 'C'},        {"json", no_argument, nullptr, 'J'},
        {"sysroot", required_argument, nullptr, 'S'},
        {"version", no_argument, nullptr, 'v'},      {"help", no_argument, nullptr, 'h'},
        {nullptr, 0, nullptr, 0},
    };
    int c;
    while ((c = getopt_long(argc, argv, "c:u:dvh", long_options, nullptr)) != -1) {
        switch (c) {
        case 'c': config_path = optarg; break;
        case 'u': libvirt_uri = optarg; break;
        case 'V': validate = true; break;
        case 'k': kiosk = optarg; break;
        case 'C': check = true; break;
        case 'J': json = true; break;
        case 'S': sysroot = optarg; break;
        case 'D': {
            std::string_view arg = optarg;
            auto eq = arg.find('=');
            if (eq == std::string_view::npos || eq == 0 || eq + 1 == arg.size()) {
                std::fprintf(stderr, "phyllome-shell: --display takes NAME=ADDRESS, e.g. win=unix:path=/run/win.sock\n");
                return 2;
            }
            displays.push_back({std::string(arg.substr(0, eq)), std::string(arg.substr(eq + 1))});
            break;
        }
        case 'd': debug = true; break;
        case 'v': std::puts("phyllome-shell " PHYLLOME_VERSION); return 0;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc) {
        std::fprintf(stderr, "phyllome-shell: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        return 2;
    }

    config::LoadResult loaded = config::load(config_path, PHYLLOME_SYSCONFDIR);
    log::set_level(debug ? config::LogLevel::Debug : loaded.config.log_level);
    for (const auto& d : loaded.diagnostics)
        log::write(d.severity == config::Diagnostic::Severity::Error ? config::LogLevel::Error
                                                                     : config::LogLevel::Warning,
                   d.to_string());
    if (validate) {
        std::printf("%s: %s\n", loaded.path.empty() ? "(no config file, defaults)" : loaded.path.c_str(),
                    loaded.has_errors() ? "has errors" : "ok");
        return loaded.has_errors() ? 1 : 0;
    }
    if (loaded.has_errors())
        log::error("the config has errors; the shell runs on defaults where it failed");
    if (check) {
        // The same libvirt choice as the running shell, so the report is about what it will use.
        session::HostCheckOptions check_options;
        check_options.sysroot = sysroot;
        check_options.libvirt_uri = guestview::choose_libvirt_uri(libvirt_uri, loaded.config.libvirt_uri,
                                                                  guestview::default_state_home());
        const session::HostReport report = session::check_host(check_options);
        std::fputs((json ? session::format_json(report) : session::format_text(report)).c_str(), stdout);
        return report.can_run_guests() ? 0 : 1;
    }
    if (json || !sysroot.empty()) {
        std::fprintf(stderr, "phyllome-shell: --json and --sysroot only go with --check\n");
        return 2;
    }

    wlr_log_init(log::enabled(config::LogLevel::Debug) ? WLR_DEBUG : WLR_ERROR, wlr_log_to_ours);
    compositor::configure_heap(); // before the warm-up threads start
    std::string scheduling = compositor::ask_compositor_priority(); // likewise: they inherit it


    compositor::ServerOptions options;
    // First, so fonts, keymap and cursors load while the backend starts.
    options.warmup = std::make_unique<compositor::StartupWarmup>(loaded.config.keyboard, loaded.config.overlay);
    options.libvirt_uri = guestview::choose_libvirt_uri(libvirt_uri, loaded.config.libvirt_uri,
                                                        guestview::default_state_home());
    options.config = std::move(loaded);
    options.config_path = config_path;
    options.displays = std::move(displays);
    options.kiosk_guest = std::move(kiosk);
    options.scheduling = std::move(scheduling);
    log::info("phyllome-shell {} starting; libvirt {}", PHYLLOME_VERSION, options.libvirt_uri);
    try {
        compositor::Server server(std::move(options));
        return server.run();
    } catch (const std::exception& e) {
        log::error("cannot start: {}", e.what());
        return 1;
    }
}
