#include "compositor/mic_indicator.hpp"

#include <cmath>
#include <numbers>

#include "compositor/cairo_buffer.hpp"
#include "compositor/output.hpp"
#include "compositor/scene_buffer_util.hpp"

namespace phyllome::compositor {
namespace {

void paint_tag(cairo_t* cr, double scale, const std::string& font) {
    cairo_scale(cr, scale, scale);
    const double r = MicIndicator::height / 2.0;
    cairo_new_path(cr);
    cairo_arc(cr, r, r, r, std::numbers::pi / 2, 3 * std::numbers::pi / 2);
    cairo_arc(cr, MicIndicator::width - r, r, r, -std::numbers::pi / 2, std::numbers::pi / 2);
    cairo_close_path(cr);
    cairo_set_source_rgba(cr, 0.72, 0.07, 0.07, 0.92);
    cairo_fill(cr);
    cairo_arc(cr, r, r, 6, 0, 2 * std::numbers::pi); // the "recording" dot
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_fill(cr);
    cairo_select_font_face(cr, font.c_str(), CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
    cairo_set_font_size(cr, 16);
    cairo_move_to(cr, 2 * r, r + 6);
    cairo_show_text(cr, "Microphone on");
}

} // namespace

MicIndicator::MicIndicator(const SceneLayer& layer, const std::list<std::unique_ptr<Output>>& outputs)
    : layer_(layer), outputs_(outputs) {
    tree_ = wlr_scene_tree_create(layer_.parent);
}

MicIndicator::~MicIndicator() {
    clear();
    if (tree_)
        wlr_scene_node_destroy(&tree_->node);
}

void MicIndicator::set_live(bool live) {
    if (live == live_)
        return;
    live_ = live;
    relayout();
}

void MicIndicator::relayout() {
    clear();
    if (live_)
        draw();
}

void MicIndicator::clear() {
    for (auto* n : nodes_)
        wlr_scene_node_destroy(&n->node);
    nodes_.clear();
}

void MicIndicator::draw() {
    for (const auto& o : outputs_) {
        const wlr_box box = o->layout_box();
        if (box.width < width + 2 * margin || !o->wlr()->enabled)
            continue;
        const double scale = o->wlr()->scale;
        wlr_scene_buffer* node = paint_scene_buffer(tree_, layer_.renderer, width, height, scale, [&](cairo_t* cr) {
            paint_tag(cr, scale, (*layer_.config).overlay.font);
        });
        if (!node)
            continue;
        wlr_scene_node_set_position(&node->node, box.x + box.width - width - margin, box.y + margin);
        nodes_.push_back(node);
    }
}

} // namespace phyllome::compositor
