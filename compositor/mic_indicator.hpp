// The on-screen marker while a guest hears the microphone: a red "Microphone on" tag in the top
// right corner of every output, above the guest (osd layer), until the microphone goes off.
#pragma once

#include <list>
#include <memory>
#include <vector>

#include "compositor/scene_layer.hpp"
#include "compositor/wlr.hpp"

namespace phyllome::compositor {

class Output;

class MicIndicator {
public:
    MicIndicator(const SceneLayer& layer, const std::list<std::unique_ptr<Output>>& outputs);
    ~MicIndicator();
    MicIndicator(const MicIndicator&) = delete;
    MicIndicator& operator=(const MicIndicator&) = delete;

    void set_live(bool live);
    bool live() const { return live_; }
    // Outputs changed: drawn again where they are now.
    void relayout();

    static constexpr int width = 190, height = 34, margin = 16;

private:
    void draw();
    void clear();

    SceneLayer layer_;
    const std::list<std::unique_ptr<Output>>& outputs_;
    wlr_scene_tree* tree_ = nullptr;
    std::vector<wlr_scene_buffer*> nodes_;
    bool live_ = false;
};

} // namespace phyllome::compositor
