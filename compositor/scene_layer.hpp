// Where a scene object draws: its parent in the scene (one of WlrCore's layers), the renderer
// that makes its textures, and the shell's config (read at each use: a reload changes it).
#pragma once

#include "compositor/wlr.hpp"
#include "config/config.hpp"

namespace phyllome::compositor {

struct SceneLayer {
    wlr_scene_tree* parent = nullptr;
    wlr_renderer* renderer = nullptr;
    const config::Config* config = nullptr;
};

} // namespace phyllome::compositor
