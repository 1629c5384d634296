#include "compositor/scene_buffer_util.hpp"

namespace phyllome::compositor {

wlr_scene_buffer* scene_buffer_adopt(wlr_scene_node* parent, wlr_buffer* buffer, wlr_renderer* renderer) {
    wlr_texture* texture = wlr_texture_from_buffer(renderer, buffer);
    wlr_scene_buffer* node = texture ? wlr_scene_buffer_create(parent, buffer) : nullptr;
    wlr_buffer_drop(buffer);
    if (!node) {
        if (texture)
            wlr_texture_destroy(texture);
        return nullptr;
    }
    // The scene renders this texture and destroys it with the node; the node needs no import.
    node->texture = texture;
    wl_list_remove(&node->pending_link);
    wl_list_init(&node->pending_link);
    return node;
}

} // namespace phyllome::compositor
