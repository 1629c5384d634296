#include "compositor/status.hpp"

#include <fmt/format.h>

#include "compositor/job_status.hpp"

namespace phyllome::compositor {

std::string json_escape(std::string_view text) {
    std::string out;
    out.reserve(text.size() + 2);
    out += '"';
    for (unsigned char c : text) {
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
            if (c < 0x20)
                out += fmt::format("\\u{:04x}", c);
            else
                out += static_cast<char>(c);
        }
    }
    out += '"';
    return out;
}

namespace {
std::string_view connection_state(guestview::ConnectionState s) {
    switch (s) {
    case guestview::ConnectionState::Connecting: return "connecting";
    case guestview::ConnectionState::Connected: return "connected";
    case guestview::ConnectionState::Failed: return "failed";
    }
    return "unknown";
}
std::string opt(const std::optional<double>& v) { return v ? fmt::format("{:.3f}", *v) : std::string("null"); }

std::string_view graphics(guestview::GraphicsSupport g) {
    switch (g) {
    case guestview::GraphicsSupport::DbusP2P: return "dbus-p2p";
    case guestview::GraphicsSupport::Unsupported: return "unsupported";
    case guestview::GraphicsSupport::None: return "none";
    }
    return "none";
}
} // namespace

namespace {

// {"installer": …, "name": …, "os": null while the agent looks, "memory_mb": …, "blocker": …}
std::string new_guest_json(const NewGuestCard& card) {
    const auto& plan = card.plan();
    std::string features;
    if (plan)
        for (std::size_t i = 0; i < plan->features.size(); ++i)
            features += (i ? ", " : "") + json_escape(plan->features[i]);
    const std::string blocker = card.blocker();
    return fmt::format(R"({{"installer": {}, "name": {}, "os": {}, "os_id": {}, "memory_mb": {}, "cpus": {}, )"
                       R"("disk_gb": {}, "features": [{}], "blocker": {}}})",
                       json_escape(card.installer()), json_escape(card.name()),
                       plan ? json_escape(plan->os_name) : "null", plan ? json_escape(plan->os_id) : "null",
                       card.memory_mb(), card.cpus(), card.disk_gb(), features,
                       blocker.empty() ? std::string("null") : json_escape(blocker));
}

std::string lock_keys_json(const LockKeys& k) {
    return fmt::format(R"({{"caps_lock": {}, "num_lock": {}, "scroll_lock": {}}})", k.caps, k.num, k.scroll);
}

} // namespace

std::string format_status_json(const StatusSnapshot& s) {
    std::string o = "{";
    o += fmt::format("\"view\": {}, \"guest\": {}, ", json_escape(s.view),
                     s.guest ? json_escape(*s.guest) : std::string("null"));
    o += fmt::format("\"libvirt\": {{\"uri\": {}, \"state\": {}, \"error\": {}, \"retry_in_ms\": {}}}, ",
                     json_escape(s.libvirt.uri), json_escape(connection_state(s.libvirt.state)),
                     s.libvirt.error.empty() ? std::string("null") : json_escape(s.libvirt.error),
                     s.libvirt.retry_in.count());
    o += "\"guests\": [";
    for (std::size_t i = 0; i < s.guests.size(); ++i) {
        const auto& g = s.guests[i];
        std::string scanout = "null";
        if (g.scanout)
            scanout = fmt::format("{{\"width\": {}, \"height\": {}, \"path\": {}}}", g.scanout->width,
                                  g.scanout->height, json_escape(g.scanout->path));
        o += fmt::format("{}{{\"name\": {}, \"state\": {}, \"reason\": {}, \"display\": {}, \"graphics\": {}, "
                         "\"note\": {}, \"scanout\": {}, \"frames\": {}, \"copies\": {}, \"bytes_copied\": {}, "
                         "\"refused\": {}, \"frames_presented\": {}, \"present_ms\": {{\"p50\": {}, \"p99\": {}}}, "
                         "\"number\": {}, \"slot\": {}, \"colour\": \"#{:06x}\", \"installer_attached\": {}",
                         i ? ", " : "", json_escape(g.info.name), json_escape(guestview::to_string(g.info.state)),
                         json_escape(g.info.state_reason), json_escape(g.display),
                         json_escape(graphics(g.info.graphics)),
                         json_escape(g.display_error.empty() ? g.info.graphics_note : g.display_error), scanout,
                         g.frames, g.copies, g.bytes_copied, g.refused, g.frames_presented, opt(g.present_p50_ms),
                         opt(g.present_p99_ms), g.number, g.info.slot ? std::to_string(*g.info.slot) : "null",
                         g.colour, g.info.installer_attached);
        o += fmt::format(", \"leds\": {}}}", g.leds ? lock_keys_json(*g.leds) : std::string("null"));
    }
    o += "], \"windows\": [";
    for (std::size_t i = 0; i < s.windows.size(); ++i) {
        const auto& w = s.windows[i];
        o += fmt::format("{}{{\"id\": {}, \"title\": {}, \"app_id\": {}, \"number\": {}, \"shown\": {}}}",
                         i ? ", " : "", w.id, json_escape(w.title), json_escape(w.app_id), w.number, w.shown);
    }
    o += "], \"outputs\": [";
    for (std::size_t i = 0; i < s.outputs.size(); ++i) {
        const auto& out = s.outputs[i];
        o += fmt::format("{}{{\"name\": {}, \"width\": {}, \"height\": {}, \"scale\": {}, \"x\": {}, \"y\": {}, "
                         "\"scanout\": {}, \"scanout_commits\": {}, \"transform\": {}, \"enabled\": {}, "
                         "\"guest\": {}, \"head\": {}}}",
                         i ? ", " : "", json_escape(out.name), out.width, out.height, out.scale, out.x, out.y,
                         out.scanout, out.scanout_commits, json_escape(out.transform), out.enabled,
                         out.guest ? json_escape(*out.guest) : "null", out.head ? std::to_string(*out.head) : "null");
    }
    o += "], \"overlay\": {\"selected\": ";
    o += s.selected ? std::to_string(*s.selected) : "null";
    o += ", \"rows\": [";
    for (std::size_t i = 0; i < s.overlay_rows.size(); ++i) {
        const auto& r = s.overlay_rows[i];
        o += fmt::format("{}{{\"x\": {}, \"y\": {}, \"width\": {}, \"height\": {}}}", i ? ", " : "", r.x, r.y,
                         r.width, r.height);
    }
    o += "], \"thumbnails\": [";
    for (std::size_t i = 0; i < s.overlay_thumbnails.size(); ++i) {
        const auto& t = s.overlay_thumbnails[i];
        o += fmt::format("{}{{\"guest\": {}, \"x\": {}, \"y\": {}, \"width\": {}, \"height\": {}}}", i ? ", " : "",
                         json_escape(t.guest), t.rect.x, t.rect.y, t.rect.width, t.rect.height);
    }
    o += fmt::format("], \"thumbnails_shown\": {}, \"thumbnail_refreshes\": {}", s.thumbnails_shown,
                     s.thumbnail_refreshes);
    o += ", \"job_bars\": [";
    for (std::size_t i = 0; i < s.overlay_job_bars.size(); ++i) {
        const auto& b = s.overlay_job_bars[i];
        o += fmt::format("{}{{\"job\": {}, \"x\": {}, \"y\": {}, \"width\": {}, \"height\": {}}}", i ? ", " : "",
                         b.id, b.bar.x, b.bar.y, b.bar.width, b.bar.height);
    }
    o += "], \"usb_rows\": [";
    for (std::size_t i = 0; i < s.overlay_usb_rows.size(); ++i) {
        const auto& u = s.overlay_usb_rows[i];
        o += fmt::format("{}{{\"device\": {}, \"x\": {}, \"y\": {}, \"width\": {}, \"height\": {}}}", i ? ", " : "",
                         json_escape(u.device), u.rect.x, u.rect.y, u.rect.width, u.rect.height);
    }
    o += "]";
    if (s.guest_card) {
        o += fmt::format(", \"guest_card\": {{\"guest\": {}, \"selected\": {}, \"rows\": [", json_escape(s.guest_card->guest()),
                         s.guest_card->selection());
        for (std::size_t i = 0; i < s.guest_card->rows().size(); ++i)
            o += (i ? ", " : "") + json_escape(s.guest_card->rows()[i].label);
        o += "]}";
    } else {
        o += ", \"guest_card\": null";
    }
    o += fmt::format(", \"notice\": {}, \"new_guest\": {}}}, \"config\": {{\"path\": {}, \"problems\": [",
                     s.overlay_notice.empty() ? std::string("null") : json_escape(s.overlay_notice),
                     s.new_guest ? new_guest_json(*s.new_guest) : std::string("null"), json_escape(s.config_path));
    for (std::size_t i = 0; i < s.config_problems.size(); ++i)
        o += (i ? ", " : "") + json_escape(s.config_problems[i]);
    o += "]}, ";
    o += fmt::format("\"host\": {}, \"scheduling\": {}, ", json_escape(s.host), json_escape(s.scheduling));
    o += fmt::format("\"last_switch_ms\": {}, \"kiosk\": {}, ", opt(s.last_switch_ms),
                     s.kiosk_guest ? fmt::format("{{\"guest\": {}, \"message\": {}}}", json_escape(*s.kiosk_guest),
                                                 json_escape(s.kiosk_message))
                                   : std::string("null"));
    o += fmt::format("\"locked\": {}, \"locker_pid\": {}, \"idle_timeout_s\": {}, ", s.locked,
                     s.locker_pid ? std::to_string(*s.locker_pid) : std::string("null"), s.idle_timeout_s);
    o += fmt::format("\"keyboard_locks\": {}, ", lock_keys_json(s.keyboard_locks));
    o += fmt::format("\"audio\": {}, ", audio_status_json(s.audio));
    o += fmt::format("\"jobs\": {}, ", jobs_json(s.jobs));
    o += fmt::format("\"usb\": {}, \"usb_problem\": {}, ", usb_json(s.usb),
                     s.usb_problem.empty() ? std::string("null") : json_escape(s.usb_problem));
    o += fmt::format("\"clipboard\": {{\"characters\": {}, \"bytes\": {}, \"source\": {}, \"host_selection\": {}, \"guests\": {{",
                     s.clipboard.characters, s.clipboard.bytes,
                     s.clipboard.source.empty() ? std::string("null") : json_escape(s.clipboard.source),
                     s.clipboard.host_selection);
    for (std::size_t i = 0; i < s.clipboard.guests.size(); ++i) {
        const auto& [name, st] = s.clipboard.guests[i];
        o += fmt::format("{}{}: {{\"registered\": {}, \"guest_has_text\": {}, \"offering\": {}}}", i ? ", " : "",
                         json_escape(name), st.registered, st.guest_has_text, st.offering);
    }
    o += "}}, ";
    o += fmt::format("\"first_frame_at_ms\": {}, ", s.first_frame_at_ms ? fmt::format("{:.3f}", *s.first_frame_at_ms) : std::string("null"));
    o += fmt::format("\"agent_pid\": {}, \"agent_rss_kb\": {}, \"agent_rss_anon_kb\": {}, \"agent_rss_file_kb\": {}, ",
                     s.agent_pid ? std::to_string(*s.agent_pid) : std::string("null"), s.agent_rss_kb,
                     s.agent_rss_anon_kb, s.agent_rss_file_kb);
    o += fmt::format("\"first_frame_ms\": {}, \"rss_kb\": {}, \"rss_anon_kb\": {}, \"rss_file_kb\": {}, "
                     "\"rss_shmem_kb\": {}, \"frame_buffers_kb\": {}, \"cpu_ms\": {:.1f}}}\n",
                     s.first_frame_ms ? fmt::format("{:.1f}", *s.first_frame_ms) : std::string("null"), s.rss_kb,
                     s.rss_anon_kb, s.rss_file_kb, s.rss_shmem_kb, s.frame_buffers_kb, s.cpu_ms);
    return o;
}

std::string format_status_text(const StatusSnapshot& s) {
    std::string o;
    std::string showing = s.guest ? *s.guest : "overlay";
    for (const auto& w : s.windows)
        if (w.shown)
            showing = fmt::format("window \"{}\"", w.title);
    o += fmt::format("Showing: {}{}\n", showing, s.locked ? " (locked)" : "");
    o += fmt::format("libvirt: {} ({})", s.libvirt.uri, connection_state(s.libvirt.state));
    if (!s.host.empty())
        o += fmt::format("\n{}", s.host);
    if (!s.libvirt.error.empty())
        o += fmt::format(": {}", s.libvirt.error);
    o += "\n\n";
    std::size_t w = 5;
    for (const auto& g : s.guests)
        w = std::max(w, g.info.name.size());
    o += fmt::format("{:<{}}  {:<14}  {:<10}  {:<16}  {}\n", "GUEST", w, "STATE", "DISPLAY", "SCANOUT", "NOTE");
    for (const auto& g : s.guests) {
        std::string scanout = g.scanout ? fmt::format("{}x{} {}", g.scanout->width, g.scanout->height, g.scanout->path)
                                        : std::string("-");
        std::string note = g.display_error.empty() ? g.info.graphics_note : g.display_error;
        if (g.info.installer_attached) // until its restarts are counted or `eject` takes it out
            note += note.empty() ? "installer attached" : "; installer attached";
        o += fmt::format("{:<{}}  {:<14}  {:<10}  {:<16}  {}\n", g.info.name, w, guestview::to_string(g.info.state),
                         g.display, scanout, note);
    }
    if (s.guests.empty())
        o += "(no guests)\n";
    o += "\nOUTPUT        SIZE\n";
    for (const auto& out : s.outputs)
        o += fmt::format("{:<12}  {}x{} at {},{} scale {}{}{}{}\n", out.name, out.width, out.height, out.x, out.y, out.scale,
                         out.transform == "normal" ? "" : " transform " + out.transform, out.enabled ? "" : " off",
                         out.guest ? fmt::format(": {} head {}", *out.guest, out.head.value_or(0)) : "");
    if (!s.jobs.empty()) {
        o += "\nJOB\n";
        for (const auto& job : s.jobs)
            o += fmt::format("{:>3}  {}: {}\n", job.id, job_title(job), job_progress_text(job));
    }
    if (!s.usb.empty() || !s.usb_problem.empty())
        o += "\nUSB\n" + usb_text(s.usb, s.usb_problem);
    o += "\n" + audio_status_text(s.audio);
    for (const auto& p : s.config_problems)
        o += fmt::format("config: {}\n", p);
    return o;
}

} // namespace phyllome::compositor
