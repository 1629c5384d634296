// `phyllome-shell --check`: can this host run guests, and how well? Pure C++ (no wlroots) so
// it runs before any display exists and is testable against a fake /dev, /sys and /usr tree.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace phyllome::session {

enum class CheckStatus { Ok, Warning, Missing };
std::string_view to_string(CheckStatus); // "ok", "warning", "missing"

// One line of the report: what was checked, what was found, and what the user can do.
struct CheckItem {
    std::string id;      // stable key for --json and tests, e.g. "render_node"
    std::string title;   // "DRM render node"
    CheckStatus status = CheckStatus::Missing;
    std::string detail;  // one line: what was found
    std::string action;  // one line: what to do; empty when nothing is needed
    std::string brief;   // a few words for the summary line when not ok, e.g. "no render node"
};

struct HostCheckOptions {
    // Prefixed to every /dev, /sys and /usr path; empty for the real host. Tests build fake
    // trees there; a fake /dev/kvm is a plain file, so "usable" reports it as not a device.
    std::string sysroot;
    std::string libvirt_uri;       // the URI the shell would use (guestview::choose_libvirt_uri)
    bool probe_libvirt = true;     // false: skip connecting (reported as a warning)
    // The embedded driver refuses to open without a libvirt event loop. A standalone check
    // registers libvirt's default one; inside the running shell (which has its own) say false.
    bool register_event_loop = true;
};

struct HostReport {
    std::string libvirt_uri;
    std::vector<CheckItem> items;
    const CheckItem* find(std::string_view id) const;
    // Guests can run: libvirt answers and QEMU can serve a D-Bus display. KVM only makes
    // them fast (TCG still works), so it never decides this.
    bool can_run_guests() const;
};

HostReport check_host(const HostCheckOptions&);

// "Host ready: KVM ✓, IOMMU ✗ (no groups), 3D ✗ (no render node)" — one line for the overlay.
std::string summary_line(const HostReport&);
std::string format_text(const HostReport&);  // the report for a terminal
std::string format_json(const HostReport&);  // one JSON object

} // namespace phyllome::session
