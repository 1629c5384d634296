#include "compositor/identity_banner.hpp"

#include <cmath>

#include "compositor/cairo_buffer.hpp"
#include "compositor/output.hpp"
#include "compositor/overlay_painter.hpp"
#include "compositor/scene_buffer_util.hpp"

namespace phyllome::compositor {

IdentityBanner::IdentityBanner(const SceneLayer& layer, wl_event_loop* loop, const std::list<std::unique_ptr<Output>>& outputs)
    : layer_(layer), outputs_(outputs) {
    tree_ = wlr_scene_tree_create(layer_.parent);
    timer_.reset(wl_event_loop_add_timer(loop, on_timer, this));
}

IdentityBanner::~IdentityBanner() {
    clear_banner();
    clear_edges();
    if (tree_)
        wlr_scene_node_destroy(&tree_->node);
}

void IdentityBanner::show_message(const std::string& text, std::uint32_t colour, int hold_ms) {
    hold_ms_ = hold_ms;
    show(text, -1, colour);
    hold_ms_ = 0;
}

void IdentityBanner::show(const std::string& name, int number, std::uint32_t colour) {
    name_ = name;
    number_ = number;
    colour_ = colour;
    active_ = true;
    const auto& cfg = (*layer_.config).identity;
    clear_edges();
    if (cfg.edge)
        draw_edges();
    if (hold_ms_ <= 0 && (!cfg.banner || cfg.banner_ms <= 0)) {
        clear_banner();
        return;
    }
    fade_step_ = 0;
    draw_banner(1.0);
    wl_event_source_timer_update(timer_.get(), hold_ms_ > 0 ? hold_ms_ : cfg.banner_ms);
}

void IdentityBanner::hide() {
    active_ = false;
    wl_event_source_timer_update(timer_.get(), 0);
    clear_banner();
    clear_edges();
}

void IdentityBanner::relayout() {
    if (!active_)
        return;
    clear_edges();
    if ((*layer_.config).identity.edge)
        draw_edges();
    if (!banner_nodes_.empty())
        draw_banner(1.0 - static_cast<double>(fade_step_) / fade_steps);
}

void IdentityBanner::clear_banner() {
    for (auto* n : banner_nodes_)
        wlr_scene_node_destroy(&n->node);
    banner_nodes_.clear();
}

void IdentityBanner::clear_edges() {
    for (auto* r : edge_nodes_)
        wlr_scene_node_destroy(&r->node);
    edge_nodes_.clear();
}

void IdentityBanner::draw_banner(double alpha) {
    clear_banner();
    const int width = number_ < 0 ? message_width : IdentityBanner::width;
    for (const auto& o : outputs_) {
        const wlr_box box = o->layout_box();
        if (box.width < width || !o->wlr()->enabled)
            continue;
        const double scale = o->wlr()->scale;
        wlr_scene_buffer* node = paint_scene_buffer(tree_, layer_.renderer, width, height, scale, [&](cairo_t* cr) {
            paint_banner(cr, width, height, scale, name_, number_, colour_, 1.0, (*layer_.config).overlay);
        });
        if (!node)
            continue;
        wlr_scene_buffer_set_opacity(node, static_cast<float>(alpha));
        wlr_scene_node_set_position(&node->node, box.x + (box.width - width) / 2, box.y + box.height / 12);
        banner_nodes_.push_back(node);
    }
}

void IdentityBanner::draw_edges() {
    const int w = (*layer_.config).identity.edge_width;
    const float c[4] = {((colour_ >> 16) & 0xff) / 255.f, ((colour_ >> 8) & 0xff) / 255.f, (colour_ & 0xff) / 255.f, 1.f};
    for (const auto& o : outputs_) {
        const wlr_box b = o->layout_box();
        const wlr_box sides[4] = {{b.x, b.y, b.width, w},
                                  {b.x, b.y + b.height - w, b.width, w},
                                  {b.x, b.y, w, b.height},
                                  {b.x + b.width - w, b.y, w, b.height}};
        for (const auto& s : sides) {
            wlr_scene_rect* r = wlr_scene_rect_create(tree_, s.width, s.height, c);
            if (!r)
                continue;
            wlr_scene_node_set_position(&r->node, s.x, s.y);
            edge_nodes_.push_back(r);
        }
    }
}

int IdentityBanner::on_timer(void* data) {
    auto* self = static_cast<IdentityBanner*>(data);
    // Fades by the nodes' opacity: the banner is drawn once.
    if (++self->fade_step_ >= fade_steps) {
        self->clear_banner();
        return 0;
    }
    for (auto* node : self->banner_nodes_)
        wlr_scene_buffer_set_opacity(node, 1.0f - static_cast<float>(self->fade_step_) / fade_steps);
    wl_event_source_timer_update(self->timer_.get(), fade_step_ms);
    return 0;
}

} // namespace phyllome::compositor
