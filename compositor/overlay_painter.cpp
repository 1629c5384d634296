#include "compositor/overlay_painter.hpp"

#include <algorithm>
#include <memory>

#include <fmt/format.h>

#include "compositor/guest_identity.hpp"
#include "compositor/guest_card_painter.hpp"
#include "compositor/new_guest_card_painter.hpp"
#include "compositor/overlay_jobs_painter.hpp"
#include "compositor/overlay_usb_painter.hpp"
#include "compositor/paint_kit.hpp"

namespace phyllome::compositor {
namespace {

using namespace paint;
using guestview::GuestInfo;
using guestview::GuestState;

Rgb state_colour(GuestState s, const config::OverlayConfig& st) {
    switch (s) {
    case GuestState::Running: return rgb(0x57ab5a);
    case GuestState::Paused:
    case GuestState::Suspended: return rgb(0xc69026);
    case GuestState::Crashed: return rgb(st.error);
    case GuestState::ShuttingDown: return rgb(0xc69026);
    case GuestState::ShutOff:
    case GuestState::Unknown: break;
    }
    return mix(rgb(st.foreground), rgb(st.background), 0.45);
}

} // namespace

OverlayHitMap paint_overlay(cairo_t* cr, const OverlayPaintInput& in) {
    OverlayHitMap hits;
    const auto& st = *in.style;
    const auto& model = *in.model;
    const Rgb bg = rgb(st.background), fg = rgb(st.foreground), accent = rgb(st.accent), err = rgb(st.error);
    const Rgb dim = mix(fg, bg, 0.4);
    const double base = st.font_size;

    cairo_save(cr);
    cairo_scale(cr, in.scale, in.scale);
    set(cr, bg);
    cairo_paint(cr);

    Text text(cr, st.font);
    const int margin = std::max(24, in.width / 20);
    const int card_w = std::min(in.width - 2 * margin, 1000);
    const int left = (in.width - card_w) / 2;
    double y = std::max(24, in.height / 12);

    // Header: product name and a subtitle.
    auto [tw, th] = text.draw(left, y, "Phyllome", base * title_size, fg, true);
    text.draw(left + tw + 16, y + th * 0.45, "guests", base * heading_size, dim);
    y += th + 20;

    // libvirt problems first: the list below is meaningless without a connection.
    const auto& conn = model.connection();
    if (conn.state != guestview::ConnectionState::Connected) {
        std::string title = conn.state == guestview::ConnectionState::Connecting
                                ? fmt::format("Connecting to libvirt at {}…", conn.uri)
                                : fmt::format("Cannot reach libvirt at {}", conn.uri);
        std::string detail = conn.error;
        if (conn.state == guestview::ConnectionState::Failed)
            detail += fmt::format("{}Retrying in {} s.", detail.empty() ? "" : "\n",
                                  (conn.retry_in.count() + 999) / 1000);
        auto [w1, h1] = text.measure(title, base * heading_size, true, card_w - 32);
        auto [w2, h2] = text.measure(detail, base, false, card_w - 32);
        double box_h = h1 + h2 + 36;
        rounded_rect(cr, left, y, card_w, box_h, 10);
        set(cr, conn.state == guestview::ConnectionState::Failed ? err : accent, 0.18);
        cairo_fill(cr);
        text.draw(left + 16, y + 12, title, base * heading_size,
                  conn.state == guestview::ConnectionState::Failed ? err : fg, true, card_w - 32);
        text.draw(left + 16, y + 18 + h1, detail, base, fg, false, card_w - 32);
        y += box_h + 16;
        (void)w1;
        (void)w2;
    }
    if (!model.config_problem().empty()) {
        auto [w, h] = text.draw(left, y, model.config_problem(), base * small_size, rgb(0xc69026), false, card_w);
        y += h + 12;
        (void)w;
    }

    const int row_h = static_cast<int>(base * 5.4);
    // The new-guest card for a picked installer.
    if (const NewGuestCard* card = model.card()) {
        paint_new_guest_card(cr, text, *card, st, CardArea{static_cast<double>(left), y, card_w, base});
        cairo_restore(cr);
        return hits;
    }
    // The selected guest's card: snapshots, backups, export, move.
    if (const GuestCard* card = model.guest_card()) {
        paint_guest_card(cr, text, *card, st, CardArea{static_cast<double>(left), y, card_w, base});
        cairo_restore(cr);
        return hits;
    }
    // "New guest": the installer images instead of the guests.
    if (model.choosing_installer()) {
        text.draw(left, y, "New guest from an installer", base * heading_size, fg, true);
        y += base * 2.6;
        if (model.installers().empty())
            text.draw(left, y, "No installer images (.iso) found in ~/Downloads, the Phyllome isos folder or "
                               "/var/lib/libvirt/images, and no exported guests (.phyllome). Esc goes back.",
                      base, dim, false, card_w);
        for (std::size_t i = 0; i < model.installers().size() && y < in.height - 3 * row_h; ++i) {
            const std::string& path = model.installers()[i];
            const bool selected = i == model.installer_selection();
            rounded_rect(cr, left, y, card_w, row_h * 0.7, 8);
            set(cr, selected ? mix(bg, accent, 0.28) : mix(bg, fg, 0.06));
            cairo_fill(cr);
            const auto slash = path.rfind('/');
            auto [nw, nh] = text.draw(left + 20, y + 8, path.substr(slash + 1), base * heading_size, fg, true, card_w / 2);
            text.draw(left + 36 + nw, y + 10, path.substr(0, slash), base * small_size, dim, false, card_w / 2 - 40);
            (void)nh;
            y += row_h * 0.7 + 8;
        }
        y += 8;
        text.draw(left, y, "↑↓ choose   Enter look at an installer (the system, the machine it gets) or import an "
                           "exported guest   Esc back",
                  base * small_size, dim, false, card_w);
        cairo_restore(cr);
        return hits;
    }

    // The guest list.
    const auto sel = model.selection();
    const auto& guests = model.guests();
    const auto numbers = number_guests(guests);
    auto number_of = [&](const std::string& name) {
        for (const auto& n : numbers)
            if (n.name == name)
                return n.number;
        return 0;
    };
    if (conn.state == guestview::ConnectionState::Connected && guests.empty()) {
        text.draw(left, y + 8, "No guests are defined yet.", base * heading_size, fg, true);
        text.draw(left, y + 8 + base * 2.2,
                  "Create one with virt-manager, virsh or phyllomectl; it appears here at once.", base, dim);
        y += row_h + 8;
    }
    for (std::size_t i = 0; i < guests.size(); ++i) {
        const GuestInfo& g = guests[i];
        const bool selected = sel && *sel == i;
        OverlayRect row{left, static_cast<int>(y), card_w, row_h - 8};
        hits.rows.push_back(row);
        rounded_rect(cr, row.x, row.y, row.width, row.height, 10);
        set(cr, selected ? mix(bg, accent, 0.28) : mix(bg, fg, 0.06));
        cairo_fill(cr);
        if (selected) {
            rounded_rect(cr, row.x + 0.5, row.y + 0.5, row.width - 1, row.height - 1, 10);
            set(cr, accent);
            cairo_set_line_width(cr, 2);
            cairo_stroke(cr);
        }
        // The guest's colour on the left edge, its number (Host+N), state dot, name, state, note.
        const Rgb gc = rgb(guest_colour(g));
        cairo_save(cr);
        rounded_rect(cr, row.x, row.y, row.width, row.height, 10);
        cairo_clip(cr);
        cairo_rectangle(cr, row.x, row.y, 6, row.height);
        set(cr, gc);
        cairo_fill(cr);
        cairo_restore(cr);
        const int number = number_of(g.name);
        if (number > 0 && number <= 9) {
            const std::string label = std::to_string(number);
            auto [lw, lh] = text.measure(label, base * heading_size, true);
            text.draw(row.x + 24 - lw / 2.0, row.y + (row.height - lh) / 2.0, label, base * heading_size, gc, true);
        }
        const Rgb sc = state_colour(g.state, st);
        cairo_arc(cr, row.x + 50, row.y + row.height / 2.0, 6, 0, 2 * G_PI);
        set(cr, sc);
        cairo_fill(cr);
        // The thumbnail's place: the compositor lays a running guest's screen over it, scaled by
        // the renderer; a guest that is not running keeps the empty frame.
        const int thumb_h = std::max(row.height - 16, 0), thumb_w = thumb_h * 16 / 10;
        const OverlayRect thumb{row.x + 66, row.y + 8, thumb_w, thumb_h};
        cairo_rectangle(cr, thumb.x, thumb.y, thumb.width, thumb.height);
        set(cr, mix(bg, fg, 0.12));
        cairo_fill(cr);
        if (g.state == GuestState::Running)
            hits.thumbnails.push_back({g.name, thumb});
        const int text_x = thumb.x + thumb.width + 14;
        auto [nw, nh] = text.draw(text_x, row.y + 10, g.name, base * heading_size, fg, true, card_w / 3);
        std::string state = std::string(guestview::to_string(g.state));
        if (!g.state_reason.empty() && g.state != GuestState::Running)
            state = g.state_reason;
        text.draw(text_x + nw + 14, row.y + 10 + nh * 0.15, state, base, sc, false, card_w / 3);
        std::string note = g.graphics == guestview::GraphicsSupport::DbusP2P ? "" : g.graphics_note;
        if (g.installer_attached) // until the installer's restarts are counted, or E ejects it
            note = note.empty() ? "installer attached" : note + "   ·   installer attached";
        if (!note.empty())
            text.draw(text_x, row.y + 14 + nh, note, base * small_size, dim, false, card_w / 2);
        (void)nw;

        // Action buttons, right-aligned; only the ones that make sense now.
        struct Btn {
            std::string label;
            OverlayCommand cmd;
            bool danger;
        };
        std::vector<Btn> btns;
        if (OverlayModel::can_show(g))
            btns.push_back({"Show", {OverlayCommand::Kind::ShowGuest, guestview::Action::Start, g.name}, false});
        if (OverlayModel::can_start(g))
            btns.push_back({g.state == GuestState::Paused ? "Resume" : "Start",
                            {OverlayCommand::Kind::GuestAction, guestview::Action::Start, g.name}, false});
        if (OverlayModel::can_shutdown(g))
            btns.push_back({"Shut down", {OverlayCommand::Kind::GuestAction, guestview::Action::Shutdown, g.name}, false});
        if (OverlayModel::can_adopt(g)) {
            bool confirm = model.pending_adopt() == g.name;
            btns.push_back({confirm ? "Confirm: switch to Phyllome display" : "Use Phyllome display",
                            {OverlayCommand::Kind::Adopt, guestview::Action::Start, g.name}, confirm});
        }
        if (OverlayModel::can_eject(g))
            btns.push_back({"Eject installer", {OverlayCommand::Kind::GuestAction, guestview::Action::Eject, g.name}, false});
        if (OverlayModel::can_force_off(g)) {
            bool confirm = model.pending_force_off() == g.name;
            btns.push_back({confirm ? "Confirm force off" : "Force off",
                            {OverlayCommand::Kind::GuestAction, guestview::Action::ForceOff, g.name}, confirm});
        }
        if (OverlayModel::can_remove(g)) {
            bool confirm = model.pending_remove() == g.name;
            btns.push_back({confirm ? "Confirm: remove with its disk" : "Remove",
                            {OverlayCommand::Kind::GuestAction, guestview::Action::Remove, g.name}, confirm});
        }
        double bx = row.x + row.width - 12;
        const double bh = std::min(row.height - 24.0, base * 2.4);
        for (auto it = btns.rbegin(); it != btns.rend(); ++it) {
            auto [lw, lh] = text.measure(it->label, base * small_size, false);
            double bw = lw + 28;
            bx -= bw;
            OverlayRect r{static_cast<int>(bx), static_cast<int>(row.y + (row.height - bh) / 2), static_cast<int>(bw), static_cast<int>(bh)};
            rounded_rect(cr, r.x, r.y, r.width, r.height, 6);
            set(cr, it->danger ? err : mix(bg, fg, 0.16));
            cairo_fill(cr);
            text.draw(r.x + 14, r.y + (r.height - lh) / 2.0, it->label, base * small_size, fg);
            hits.buttons.push_back({r, it->cmd});
            bx -= 10;
        }
        y += row_h;
    }

    // What just happened.
    if (!model.notice().empty()) {
        y += 8;
        auto [w, h] = text.draw(left, y, model.notice(), base, model.notice_is_error() ? err : accent, false, card_w);
        y += h + 8;
        (void)w;
    }

    // Long jobs: progress, and Cancel.
    y = paint_jobs(cr, text, left, y, card_w, model.jobs(), st, hits);
    // The host's USB devices, and who has each.
    y = paint_usb(cr, text, left, y, card_w, model.usb(),
                  model.selected_guest() ? model.selected_guest()->name : std::string(), st, hits);

    // Host applications.
    if (!model.apps().empty()) {
        y += 16;
        double ax = left;
        for (std::size_t i = 0; i < model.apps().size() && i < 12; ++i) {
            std::string label = fmt::format("F{}  {}", i + 1, model.apps()[i].name);
            auto [lw, lh] = text.measure(label, base * small_size, false);
            OverlayRect r{static_cast<int>(ax), static_cast<int>(y), lw + 28, lh + 16};
            rounded_rect(cr, r.x, r.y, r.width, r.height, 6);
            set(cr, mix(bg, fg, 0.10));
            cairo_fill(cr);
            text.draw(r.x + 14, r.y + 8, label, base * small_size, fg);
            hits.buttons.push_back({r, {OverlayCommand::Kind::LaunchApp, guestview::Action::Start, std::to_string(i)}});
            ax += r.width + 10;
        }
    }

    // Host applications' open windows, switched to like guests.
    if (!model.windows().empty()) {
        y += model.apps().empty() ? 16 : 46; // below the apps' buttons when there are some
        double ax = left;
        for (const WindowEntry& w : model.windows()) {
            const std::string label = w.number > 0 ? fmt::format("{}  {}", w.number, w.label) : w.label;
            auto [lw, lh] = text.measure(label, base * small_size, false);
            OverlayRect r{static_cast<int>(ax), static_cast<int>(y), std::min(lw + 28, 360), lh + 16};
            if (r.x + r.width > in.width - margin)
                break;
            rounded_rect(cr, r.x, r.y, r.width, r.height, 6);
            set(cr, mix(bg, accent, 0.18));
            cairo_fill(cr);
            text.draw(r.x + 14, r.y + 8, label, base * small_size, fg, false, r.width - 28);
            hits.buttons.push_back({r, {OverlayCommand::Kind::ShowWindow, guestview::Action::Start, std::to_string(w.id)}});
            ax += r.width + 10;
        }
    }

    // Footer: hotkey help and status.
    auto [hw, hh] = text.measure(in.hotkey_help, base * small_size, false, in.width - 2 * margin);
    double fy = in.height - hh - 18;
    text.draw(margin, fy, in.hotkey_help, base * small_size, dim, false, in.width - 2 * margin);
    if (!in.status_line.empty()) {
        auto [sw, sh] = text.measure(in.status_line, base * small_size, false, in.width - 2 * margin);
        text.draw(margin, fy - sh - 6, in.status_line, base * small_size, mix(dim, bg, 0.3), false, in.width - 2 * margin);
        (void)sw;
    }
    (void)hw;
    cairo_restore(cr);
    return hits;
}

void paint_message(cairo_t* cr, int width, int height, double scale, const std::string& title,
                   const std::string& detail, const config::OverlayConfig& style) {
    cairo_save(cr);
    cairo_scale(cr, scale, scale);
    const Rgb bg = rgb(style.background), fg = rgb(style.foreground);
    set(cr, bg);
    cairo_paint(cr);
    Text text(cr, style.font);
    const int max_w = std::max(100, width - 80);
    auto [tw, th] = text.measure(title, style.font_size * banner_size, true, max_w);
    auto [dw, dh] = text.measure(detail, style.font_size, false, max_w);
    const double y = (height - th - dh - 12) / 2.0;
    text.draw((width - tw) / 2.0, y, title, style.font_size * banner_size, fg, true, max_w);
    if (!detail.empty())
        text.draw((width - dw) / 2.0, y + th + 12, detail, style.font_size, mix(fg, bg, 0.4), false, max_w);
    cairo_restore(cr);
}

void paint_banner(cairo_t* cr, int width, int height, double scale, const std::string& name, int number,
                  std::uint32_t colour, double alpha, const config::OverlayConfig& style) {
    cairo_save(cr);
    cairo_set_operator(cr, CAIRO_OPERATOR_CLEAR);
    cairo_paint(cr);
    cairo_set_operator(cr, CAIRO_OPERATOR_OVER);
    cairo_scale(cr, scale, scale);
    cairo_push_group(cr);
    rounded_rect(cr, 0, 0, width, height, 14);
    set(cr, rgb(style.background), 0.92);
    cairo_fill(cr);
    rounded_rect(cr, 0, 0, 12, height, 6);
    set(cr, rgb(colour));
    cairo_fill(cr);
    Text text(cr, style.font);
    const std::string label = number > 0 ? fmt::format("{}", number) : "";
    double x = 30;
    if (!label.empty()) {
        auto [lw, lh] = text.measure(label, style.font_size * banner_size, true);
        text.draw(x, (height - lh) / 2.0, label, style.font_size * banner_size, rgb(colour), true);
        x += lw + 16;
    }
    const double size = style.font_size * (number < 0 ? 1.0 : banner_size);
    auto [nw, nh] = text.measure(name, size, true, width - static_cast<int>(x) - 20);
    text.draw(x, (height - nh) / 2.0, name, size, rgb(style.foreground), true, width - static_cast<int>(x) - 20);
    (void)nw;
    cairo_pop_group_to_source(cr);
    cairo_paint_with_alpha(cr, alpha);
    cairo_restore(cr);
}

} // namespace phyllome::compositor
