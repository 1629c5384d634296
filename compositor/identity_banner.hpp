// The guest's name and colour shown for a moment on every switch, then faded out; and an
// optional thin edge in the guest's colour while it is shown.
#pragma once

#include <cstdint>
#include <list>
#include <memory>
#include <string>
#include <vector>

#include "compositor/scene_layer.hpp"
#include "compositor/wlr.hpp"
#include "guestview/event_source.hpp"

namespace phyllome::compositor {

class Output;

class IdentityBanner {
public:
    IdentityBanner(const SceneLayer& layer, wl_event_loop* loop, const std::list<std::unique_ptr<Output>>& outputs);
    ~IdentityBanner();
    IdentityBanner(const IdentityBanner&) = delete;
    IdentityBanner& operator=(const IdentityBanner&) = delete;

    // Shows the banner (if enabled) and the edge (if enabled) for this guest.
    void show(const std::string& name, int number, std::uint32_t colour);
    // A short message in the banner instead of the name (a clipboard confirmation), `colour` on its side.
    // `hold_ms` > 0: shown that long, even where the config turns the name banner off (an offer
    // the user acts on).
    void show_message(const std::string& text, std::uint32_t colour, int hold_ms = 0);
    // Removes both (the overlay is shown).
    void hide();
    // Outputs changed: draw again where needed.
    void relayout();
    bool banner_visible() const { return !banner_nodes_.empty(); }

    static constexpr int width = 460, height = 72, fade_steps = 6, fade_step_ms = 50;
    static constexpr int message_width = 760; // a message is longer than a name

private:
    void draw_banner(double alpha);
    void clear_banner();
    void draw_edges();
    void clear_edges();
    static int on_timer(void* data);

    SceneLayer layer_;
    const std::list<std::unique_ptr<Output>>& outputs_;
    wlr_scene_tree* tree_ = nullptr;
    guestview::EventSourcePtr timer_;
    std::vector<wlr_scene_buffer*> banner_nodes_;
    std::vector<wlr_scene_rect*> edge_nodes_;
    std::string name_;
    int number_ = 0;
    std::uint32_t colour_ = 0;
    bool active_ = false;
    int hold_ms_ = 0; // a message's own time, else the config's banner_ms
    int fade_step_ = 0;
};

} // namespace phyllome::compositor
