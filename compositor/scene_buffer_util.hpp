#pragma once

#include "compositor/wlr.hpp"

namespace phyllome::compositor {

// Shows the whole `width` x `height` buffer scaled to `dest_width` x `dest_height`. wlroots 0.15
// takes an unset source box from the destination size, which crops instead of scaling.
inline void scene_buffer_fit(wlr_scene_buffer* node, int width, int height, int dest_width, int dest_height) {
    const wlr_fbox whole{0, 0, static_cast<double>(width), static_cast<double>(height)};
    wlr_scene_buffer_set_source_box(node, &whole);
    wlr_scene_buffer_set_dest_size(node, dest_width, dest_height);
}

// The one way a buffer enters the scene: a node under `parent` whose texture is made now, and
// the caller's reference to `buffer` dropped (the node keeps its own). wlroots 0.15 makes a
// missing texture while it renders, and making one there aborts the process (its
// wlr_texture_from_buffer asserts the renderer is not rendering), so a buffer the renderer
// cannot sample (format, stride, unmappable memory) never enters the scene: nullptr then.
wlr_scene_buffer* scene_buffer_adopt(wlr_scene_node* parent, wlr_buffer* buffer, wlr_renderer* renderer);

} // namespace phyllome::compositor
