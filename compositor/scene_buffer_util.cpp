#include "compositor/scene_buffer_util.hpp"

namespace phyllome::compositor {

wlr_surface* scene_surface_at(wlr_scene_tree* tree, double lx, double ly, double& sx, double& sy) {
    wlr_scene_node* node = wlr_scene_node_at(&tree->node, lx, ly, &sx, &sy);
    if (!node || node->type != WLR_SCENE_NODE_BUFFER)
        return nullptr;
    wlr_scene_surface* surface = wlr_scene_surface_try_from_buffer(wlr_scene_buffer_from_node(node));
    return surface ? surface->surface : nullptr;
}

// A trial import: pixman only wraps the memory; a GL renderer uploads it once more when the
// scene paints, which happens only when a guest changes buffers (a new surface or format).
bool renderer_can_sample(wlr_renderer* renderer, wlr_buffer* buffer) {
    wlr_texture* texture = wlr_texture_from_buffer(renderer, buffer);
    if (!texture)
        return false;
    wlr_texture_destroy(texture);
    return true;
}

wlr_scene_buffer* scene_buffer_adopt(wlr_scene_tree* parent, wlr_buffer* buffer, wlr_renderer* renderer) {
    wlr_scene_buffer* node = renderer_can_sample(renderer, buffer) ? wlr_scene_buffer_create(parent, buffer) : nullptr;
    wlr_buffer_drop(buffer); // the node holds its own lock
    return node;
}

bool scene_buffer_replace(wlr_scene_buffer* node, wlr_buffer* buffer, wlr_renderer* renderer) {
    const bool ok = renderer_can_sample(renderer, buffer);
    if (ok)
        wlr_scene_buffer_set_buffer(node, buffer);
    wlr_buffer_drop(buffer);
    return ok;
}

void scene_buffer_damage(wlr_scene_buffer* node, int x, int y, int width, int height) {
    if (!node->buffer)
        return;
    pixman_region32_t damage;
    pixman_region32_init_rect(&damage, x, y, static_cast<unsigned>(width), static_cast<unsigned>(height));
    wlr_scene_buffer_set_buffer_with_damage(node, node->buffer, &damage);
    pixman_region32_fini(&damage);
}

} // namespace phyllome::compositor
