#include "compositor/scene_scanout.hpp"

#include <cmath>

namespace phyllome::compositor {
namespace {

struct Search {
    wlr_box output_box;
    int visible = 0;             // leaf nodes that touch the output
    wlr_scene_buffer* exact = nullptr; // a buffer node whose box is the output's
};

bool node_size(wlr_scene_node* node, int& width, int& height) {
    switch (node->type) {
    case WLR_SCENE_NODE_BUFFER: {
        auto* b = reinterpret_cast<wlr_scene_buffer*>(node); // node is its first member
        if (b->dst_width > 0 && b->dst_height > 0) {
            width = b->dst_width;
            height = b->dst_height;
        } else if (b->buffer) {
            width = b->buffer->width;
            height = b->buffer->height;
        } else {
            return false;
        }
        return true;
    }
    case WLR_SCENE_NODE_RECT: {
        auto* r = reinterpret_cast<wlr_scene_rect*>(node);
        width = r->width;
        height = r->height;
        return true;
    }
    case WLR_SCENE_NODE_SURFACE: {
        wlr_surface* s = wlr_scene_surface_from_node(node)->surface;
        width = s->current.width;
        height = s->current.height;
        return true;
    }
    default:
        return false;
    }
}

// Depth first over enabled nodes; stops counting early once two leaves are visible.
void visit(wlr_scene_node* node, int x, int y, Search& search) {
    if (!node->state.enabled || search.visible > 1)
        return;
    x += node->state.x;
    y += node->state.y;
    if (node->type == WLR_SCENE_NODE_ROOT || node->type == WLR_SCENE_NODE_TREE) {
        wlr_scene_node* child;
        wl_list_for_each(child, &node->state.children, state.link)
            visit(child, x, y, search);
        return;
    }
    int width = 0, height = 0;
    if (!node_size(node, width, height) || width <= 0 || height <= 0)
        return;
    const wlr_box box{x, y, width, height};
    wlr_box overlap{};
    if (!wlr_box_intersection(&overlap, &search.output_box, &box))
        return;
    ++search.visible;
    const wlr_box& o = search.output_box;
    if (node->type == WLR_SCENE_NODE_BUFFER && box.x == o.x && box.y == o.y && box.width == o.width &&
        box.height == o.height)
        search.exact = reinterpret_cast<wlr_scene_buffer*>(node);
}

} // namespace

wlr_scene_buffer* sole_covering_buffer(wlr_scene* scene, wlr_output* output, const wlr_box& output_box) {
    Search search{output_box};
    visit(&scene->node, 0, 0, search);
    if (search.visible != 1 || !search.exact)
        return nullptr;
    wlr_scene_buffer* node = search.exact;
    wlr_buffer* buffer = node->buffer;
    if (!buffer || node->transform != output->transform)
        return nullptr;
    // One buffer pixel per output pixel: the whole buffer, at the output's own resolution.
    if (buffer->width != output->width || buffer->height != output->height)
        return nullptr;
    const wlr_fbox& src = node->src_box;
    const bool whole_source = (src.width <= 0 && src.height <= 0) ||
                              (src.x == 0 && src.y == 0 && src.width == buffer->width && src.height == buffer->height);
    return whole_source ? node : nullptr;
}

} // namespace phyllome::compositor
