#include "compositor/guest_card_painter.hpp"

#include <fmt/format.h>

namespace phyllome::compositor {

using namespace paint;

void paint_guest_card(cairo_t* cr, Text& text, const GuestCard& card, const config::OverlayConfig& st,
                      const CardArea& area) {
    const Rgb bg = rgb(st.background), fg = rgb(st.foreground), accent = rgb(st.accent), err = rgb(st.error);
    const Rgb dim = mix(fg, bg, 0.4);
    const double base = area.base, left = area.left;
    const int w = area.width;
    double y = area.top;
    auto [tw, th] = text.draw(left, y, card.guest(), base * heading_size, fg, true, w);
    (void)tw;
    y += th + 4;
    text.draw(left, y, "snapshots, backups, export and move", base * small_size, dim, false, w);
    y += base * 2.2;
    const double row_h = base * 3.2;
    for (std::size_t i = 0; i < card.rows().size(); ++i) {
        const GuestCard::Row& row = card.rows()[i];
        const bool selected = i == card.selection();
        if (selected) {
            rounded_rect(cr, left - 10, y - 6, w + 20, row_h, 8);
            set(cr, mix(bg, accent, 0.22));
            cairo_fill(cr);
        }
        const bool arming = row.kind == GuestCard::Row::Kind::Snapshot && card.pending_delete() == row.value;
        text.draw(left, y, arming ? fmt::format("Press R again to delete “{}”", row.value) : row.label, base,
                  arming ? err : fg, selected, w);
        text.draw(left, y + base * 1.45, row.detail, base * small_size, dim, false, w);
        y += row_h;
        if (y > area.top + base * 40)
            break; // the rest would run into the footer; the selection scrolls no further
    }
    y += base;
    text.draw(left, y, "↑↓ choose   Enter do it   R R delete a snapshot   Esc back", base * small_size, dim, false, w);
}

} // namespace phyllome::compositor
