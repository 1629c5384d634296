#include "compositor/new_guest_card_painter.hpp"

#include <fmt/format.h>

namespace phyllome::compositor {
namespace {

using namespace paint;

std::string joined(const std::vector<std::string>& parts, const char* separator) {
    std::string out;
    for (const std::string& p : parts)
        out += (out.empty() ? "" : separator) + p;
    return out;
}

} // namespace

void paint_new_guest_card(cairo_t* cr, Text& text, const NewGuestCard& card, const config::OverlayConfig& st,
                          const CardArea& area) {
    const Rgb bg = rgb(st.background), fg = rgb(st.foreground), accent = rgb(st.accent), err = rgb(st.error);
    const Rgb dim = mix(fg, bg, 0.4), warn = rgb(0xc69026);
    const double base = area.base, left = area.left;
    const int w = area.width;
    double y = area.top;

    auto [tw, th] = text.draw(left, y, fmt::format("New guest: {}", card.name()), base * heading_size, fg, true, w);
    (void)tw;
    y += th + 4;
    const auto slash = card.installer().rfind('/');
    text.draw(left, y, "from " + card.installer().substr(slash == std::string::npos ? 0 : slash + 1), base * small_size,
              dim, false, w);
    y += base * 2.2;

    const auto& plan = card.plan();
    if (!plan) {
        text.draw(left, y, "Looking at the installer…", base, dim, false, w);
        return;
    }
    // What the installer holds, as libosinfo named it.
    const bool known = !plan->os_id.empty();
    auto [ow, oh] = text.draw(left, y, plan->os_name, base * heading_size, known ? accent : warn, true, w);
    (void)ow;
    y += oh + 2;
    text.draw(left, y, known ? "recognised from its installer" : "not in the operating system database",
              base * small_size, dim, false, w);
    y += base * 2.0;

    if (!plan->problem.empty()) {
        auto [pw, ph] = text.draw(left, y, plan->problem, base, err, true, w);
        (void)pw;
        y += ph + base;
        text.draw(left, y, "Esc back", base * small_size, dim, false, w);
        return;
    }

    // The three sizes, the chosen one highlighted: ←→ change it.
    struct Row {
        NewGuestCard::Field field;
        const char* label;
        std::string value;
    };
    const Row rows[] = {
        {NewGuestCard::Field::Memory, "Memory", fmt::format("{} MB", card.memory_mb())},
        {NewGuestCard::Field::Cpus, "CPUs", fmt::format("{}", card.cpus())},
        {NewGuestCard::Field::Disk, "Disk", fmt::format("{} GB", card.disk_gb())},
    };
    const double row_h = base * 3.2;
    for (const Row& row : rows) {
        const bool selected = row.field == card.field();
        rounded_rect(cr, left, y, w, row_h - 6, 8);
        set(cr, selected ? mix(bg, accent, 0.28) : mix(bg, fg, 0.06));
        cairo_fill(cr);
        text.draw(left + 16, y + base * 0.45, row.label, base, fg, true);
        text.draw(left + w * 0.35, y + base * 0.45, selected ? "◀  " + row.value + "  ▶" : row.value, base, fg, selected);
        y += row_h;
    }
    y += base * 0.6;

    const std::string features = joined(plan->features, "   ·   ");
    auto [fw, fh] = text.draw(left, y, features, base * small_size, fg, false, w);
    (void)fw;
    y += fh + 6;
    for (const std::string& note : plan->notes) {
        auto [nw, nh] = text.draw(left, y, note, base * small_size, dim, false, w);
        (void)nw;
        y += nh + 4;
    }
    for (const std::string& warning : card.warnings()) {
        auto [ww, wh] = text.draw(left, y, warning, base * small_size, warn, true, w);
        (void)ww;
        y += wh + 4;
    }
    if (const std::string blocker = card.blocker(); !blocker.empty()) {
        auto [bw, bh] = text.draw(left, y, blocker, base * small_size, err, true, w);
        (void)bw;
        y += bh + 4;
    }
    y += base * 0.8;
    text.draw(left, y, "↑↓ choose   ←→ change   Enter create   Esc back", base * small_size, dim, false, w);
}

} // namespace phyllome::compositor
