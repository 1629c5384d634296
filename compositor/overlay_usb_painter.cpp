#include "compositor/overlay_usb_painter.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace phyllome::compositor {

using namespace paint;

double paint_usb(cairo_t* cr, Text& text, double left, double y, int width, const std::vector<UsbEntry>& usb,
                 const std::string& selected_guest, const config::OverlayConfig& st, OverlayHitMap& hits) {
    if (usb.empty())
        return y;
    const Rgb bg = rgb(st.background), fg = rgb(st.foreground), accent = rgb(st.accent);
    const Rgb dim = mix(fg, bg, 0.4);
    const double size = st.font_size * small_size;
    y += 14;
    auto [hw, hh] = text.draw(left, y, "USB devices", size, dim, true);
    (void)hw;
    y += hh + 6;
    for (const UsbEntry& e : usb) {
        const auto& d = e.device;
        // Who has it, and what a click does with the selected guest.
        std::string holder = e.owner.empty() ? "this computer" : e.owner;
        if (!e.busy.empty())
            holder = fmt::format("{} {}…", e.busy, e.owner.empty() ? "" : e.owner);
        std::string action;
        if (e.busy.empty() && !selected_guest.empty())
            action = e.owner == selected_guest ? "take back" : e.policy == "never" ? "" : "give to " + selected_guest;
        const std::string what = guestview::usb::describe_kinds(d.kinds) + (e.policy.empty() ? "" : " · " + e.policy);
        auto [aw, ah] = text.measure(action.empty() ? " " : action, size, false);
        const int row_h = std::max(ah + 12, 30);
        const OverlayRect row{static_cast<int>(left), static_cast<int>(y), width, row_h};
        rounded_rect(cr, row.x, row.y, row.width, row.height, 6);
        set(cr, e.owner.empty() ? mix(bg, fg, 0.07) : mix(bg, accent, 0.22));
        cairo_fill(cr);
        const double ty = row.y + (row_h - ah) / 2.0;
        const int name_w = width * 2 / 5;
        text.draw(row.x + 12, ty, d.name() + (e.offered ? "  •" : ""), size, fg, !e.owner.empty(), name_w - 16);
        text.draw(row.x + name_w, ty, fmt::format("{}  —  {}", holder, what), size, e.owner.empty() ? dim : fg, false,
                  width - name_w - aw - 36);
        if (!action.empty())
            text.draw(row.x + width - aw - 14, ty, action, size, accent);
        hits.usb_rows.push_back({d.sysname, row});
        hits.buttons.push_back({row, OverlayCommand{.kind = OverlayCommand::Kind::Usb, .device = d.sysname}});
        y += row_h + 6;
    }
    return y;
}

} // namespace phyllome::compositor
