// The overlay's drawing kit: colours, one pango text helper and rounded rectangles, shared by
// the overlay's painters. Internal to compositor/.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include <cairo.h>
#include <pango/pangocairo.h>

namespace phyllome::compositor::paint {

struct Rgb {
    double r, g, b;
};
inline Rgb rgb(std::uint32_t c) {
    return {((c >> 16) & 0xff) / 255.0, ((c >> 8) & 0xff) / 255.0, (c & 0xff) / 255.0};
}
inline Rgb mix(Rgb a, Rgb b, double t) {
    return {a.r + (b.r - a.r) * t, a.g + (b.g - a.g) * t, a.b + (b.b - a.b) * t};
}
inline void set(cairo_t* cr, Rgb c, double alpha = 1.0) { cairo_set_source_rgba(cr, c.r, c.g, c.b, alpha); }

struct LayoutDeleter {
    void operator()(PangoLayout* l) const { g_object_unref(l); }
};
struct FontDeleter {
    void operator()(PangoFontDescription* f) const { pango_font_description_free(f); }
};
using LayoutPtr = std::unique_ptr<PangoLayout, LayoutDeleter>;

// One type scale, in multiples of the configured size: every distinct size costs pango a font
// match and sort the first time (about 1.3 ms, on the first frame's path) and cairo a glyph cache.
inline constexpr double title_size = 2.2, banner_size = 1.5, heading_size = 1.15, small_size = 0.85;
using FontPtr = std::unique_ptr<PangoFontDescription, FontDeleter>;

class Text {
public:
    Text(cairo_t* cr, const std::string& family) : cr_(cr), layout_(pango_cairo_create_layout(cr)) {
        font_.reset(pango_font_description_from_string(family.c_str()));
    }
    // Draws text with its top-left at (x, y); returns its logical size.
    std::pair<int, int> draw(double x, double y, const std::string& text, double size_pt, Rgb colour,
                             bool bold = false, int max_width = -1) {
        auto [w, h] = measure(text, size_pt, bold, max_width);
        set(cr_, colour);
        cairo_move_to(cr_, x, y);
        pango_cairo_show_layout(cr_, layout_.get());
        return {w, h};
    }
    std::pair<int, int> measure(const std::string& text, double size_pt, bool bold, int max_width = -1) {
        pango_font_description_set_size(font_.get(), static_cast<int>(size_pt * PANGO_SCALE));
        pango_font_description_set_weight(font_.get(), bold ? PANGO_WEIGHT_BOLD : PANGO_WEIGHT_NORMAL);
        pango_layout_set_font_description(layout_.get(), font_.get());
        pango_layout_set_width(layout_.get(), max_width > 0 ? max_width * PANGO_SCALE : -1);
        pango_layout_set_ellipsize(layout_.get(), max_width > 0 ? PANGO_ELLIPSIZE_END : PANGO_ELLIPSIZE_NONE);
        pango_layout_set_text(layout_.get(), text.c_str(), static_cast<int>(text.size()));
        int w = 0, h = 0;
        pango_layout_get_pixel_size(layout_.get(), &w, &h);
        return {w, h};
    }

private:
    cairo_t* cr_;
    LayoutPtr layout_;
    FontPtr font_;
};

inline void rounded_rect(cairo_t* cr, double x, double y, double w, double h, double r) {
    r = std::min({r, w / 2, h / 2});
    cairo_new_sub_path(cr);
    cairo_arc(cr, x + w - r, y + r, r, -G_PI / 2, 0);
    cairo_arc(cr, x + w - r, y + h - r, r, 0, G_PI / 2);
    cairo_arc(cr, x + r, y + h - r, r, G_PI / 2, G_PI);
    cairo_arc(cr, x + r, y + r, r, G_PI, 3 * G_PI / 2);
    cairo_close_path(cr);
}

} // namespace phyllome::compositor::paint
