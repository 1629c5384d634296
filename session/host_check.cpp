#include "session/host_check.hpp"

#include <fmt/format.h>

#include "session/host_probes.hpp"

namespace phyllome::session {

std::string_view to_string(CheckStatus s) {
    switch (s) {
    case CheckStatus::Ok: return "ok";
    case CheckStatus::Warning: return "warning";
    case CheckStatus::Missing: return "missing";
    }
    return "missing";
}

const CheckItem* HostReport::find(std::string_view id) const {
    for (const auto& i : items)
        if (i.id == id)
            return &i;
    return nullptr;
}

bool HostReport::can_run_guests() const {
    const CheckItem* lv = find("libvirt");
    const CheckItem* qemu = find("qemu_dbus");
    return lv && qemu && lv->status == CheckStatus::Ok && qemu->status == CheckStatus::Ok;
}

HostReport check_host(const HostCheckOptions& options) {
    HostReport report;
    report.libvirt_uri = options.libvirt_uri;
    auto& items = report.items;
    for (auto& i : probes::kvm(options.sysroot))
        items.push_back(std::move(i));
    items.push_back(probes::nested(options.sysroot));
    items.push_back(probes::iommu(options.sysroot));
    std::string node;
    items.push_back(probes::render_node(options.sysroot, node));
    items.push_back(probes::virgl(node));
    if (options.probe_libvirt)
        items.push_back(probes::libvirt(options.libvirt_uri, options.register_event_loop));
    else
        items.push_back({"libvirt", "libvirt", CheckStatus::Warning, "not checked", {}, "not checked"});
    items.push_back(probes::qemu_dbus(options.sysroot));
    // New guests: these limit which can be created (Windows 11 above all), never whether any runs.
    items.push_back(probes::osinfo_db(options.sysroot));
    items.push_back(probes::swtpm(options.sysroot));
    items.push_back(probes::secure_boot(options.sysroot));
    items.push_back(probes::virtio_win(options.sysroot));
    return report;
}

std::string summary_line(const HostReport& report) {
    // The few things a user notices, in the order they matter; details live in --check.
    struct Part {
        std::string_view label;
        std::string_view id;
    };
    static constexpr Part parts[] = {
        {"libvirt", "libvirt"}, {"QEMU D-Bus", "qemu_dbus"}, {"KVM", "kvm_usable"}, {"IOMMU", "iommu"}, {"3D", "virgl"},
    };
    std::string line = report.can_run_guests() ? "Host ready:" : "Host cannot run guests:";
    bool first = true;
    for (const auto& p : parts) {
        const CheckItem* i = report.find(p.id);
        if (!i)
            continue;
        const bool ok = i->status == CheckStatus::Ok;
        line += fmt::format("{} {} {}", first ? "" : ",", p.label, ok ? "✓" : "✗");
        if (!ok && !i->brief.empty())
            line += fmt::format(" ({})", i->brief);
        first = false;
    }
    return line;
}

std::string format_text(const HostReport& report) {
    std::string out = fmt::format("phyllome-shell host check (libvirt {})\n\n", report.libvirt_uri);
    for (const auto& i : report.items) {
        out += fmt::format("  {:<8} {:<32} {}\n", to_string(i.status), i.title, i.detail);
        if (i.status != CheckStatus::Ok && !i.action.empty())
            out += fmt::format("  {:<8} {:<32} → {}\n", "", "", i.action);
    }
    out += fmt::format("\n{}\n", summary_line(report));
    out += report.can_run_guests() ? "Guests can run on this host.\n"
                                   : "Guests cannot run until the missing libvirt or QEMU parts above are fixed.\n";
    return out;
}

namespace {
std::string json_string(std::string_view s) {
    std::string out = "\"";
    for (const char c : s) {
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\t': out += "\\t"; break;
        case '\r': out += "\\r"; break;
        default:
            if (static_cast<unsigned char>(c) < 0x20)
                out += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
            else
                out += c; // UTF-8 passes through: JSON text is UTF-8
        }
    }
    return out + "\"";
}
} // namespace

std::string format_json(const HostReport& report) {
    std::string out = fmt::format("{{\"ready\":{},\"libvirt_uri\":{},\"summary\":{},\"checks\":[",
                                  report.can_run_guests() ? "true" : "false", json_string(report.libvirt_uri),
                                  json_string(summary_line(report)));
    for (std::size_t n = 0; n < report.items.size(); ++n) {
        const auto& i = report.items[n];
        out += fmt::format("{}{{\"id\":{},\"title\":{},\"status\":{},\"detail\":{},\"action\":{}}}", n ? "," : "",
                           json_string(i.id), json_string(i.title), json_string(to_string(i.status)),
                           json_string(i.detail), json_string(i.action));
    }
    return out + "]}\n";
}

} // namespace phyllome::session
