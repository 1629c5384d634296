#pragma once

#include <memory>

#include "compositor/wlr.hpp"

namespace phyllome::compositor {

// Shows the whole `width` x `height` buffer scaled to `dest_width` x `dest_height`.
inline void scene_buffer_fit(wlr_scene_buffer* node, int width, int height, int dest_width, int dest_height) {
    const wlr_fbox whole{0, 0, static_cast<double>(width), static_cast<double>(height)};
    wlr_scene_buffer_set_source_box(node, &whole);
    wlr_scene_buffer_set_dest_size(node, dest_width, dest_height);
}

// Whether `renderer` can sample `buffer` (format, row length, memory it can map). The scene
// makes its textures while it paints and silently skips a buffer it cannot import: we check
// before a buffer enters the scene, so that the user sees a message instead of nothing.
bool renderer_can_sample(wlr_renderer* renderer, wlr_buffer* buffer);

// The two ways a buffer enters the scene (a source check keeps it so). Both take over the
// caller's reference to a new buffer (wlr_buffer_drop) and refuse a buffer the renderer
// cannot sample. `adopt`: a new node under `parent`, or nullptr. `replace`: `node` shows
// `buffer` from now on, or keeps what it showed and returns false.
wlr_scene_buffer* scene_buffer_adopt(wlr_scene_tree* parent, wlr_buffer* buffer, wlr_renderer* renderer);
bool scene_buffer_replace(wlr_scene_buffer* node, wlr_buffer* buffer, wlr_renderer* renderer);
// The client surface drawn at layout point (lx, ly) under `tree` (enabled nodes only), with the
// point in its coordinates; null over anything else.
wlr_surface* scene_surface_at(wlr_scene_tree* tree, double lx, double ly, double& sx, double& sy);
// The node's buffer changed in place inside this rectangle (buffer pixels): repaint just that.
// The scene drops the node's texture and makes it again from the buffer when it next paints:
// pixman only wraps the memory again; a GL renderer uploads the whole buffer.
void scene_buffer_damage(wlr_scene_buffer* node, int x, int y, int width, int height);

// A lock on a wlr_buffer, released on destruction.
struct BufferUnlock {
    void operator()(wlr_buffer* buffer) const { wlr_buffer_unlock(buffer); }
};
using BufferLock = std::unique_ptr<wlr_buffer, BufferUnlock>;
inline BufferLock lock_buffer(wlr_buffer* buffer) { return BufferLock(wlr_buffer_lock(buffer)); }

} // namespace phyllome::compositor
