#include "compositor/output.hpp"

#include <cmath>
#include <ctime>

#include "compositor/cairo_buffer.hpp"
#include "compositor/frame_buffer.hpp"
#include "compositor/overlay_painter.hpp"
#include "compositor/scene_buffer_util.hpp"
#include "compositor/scene_scanout.hpp"
#include "config/log.hpp"

namespace phyllome::compositor {

Output::Output(WlrCore& core, const config::Config& config, OutputHost& host, wlr_output* output)
    : core_(core), config_(config), host_(host), output_(output) {
    if (!wlr_output_init_render(output_, core_.allocator(), core_.renderer()))
        throw std::runtime_error(fmt::format("cannot initialise rendering on output {}", output_->name));
    // Registered before the scene output exists, so it runs before wlroots frees that output's
    // damage tracking: our nodes are destroyed while the scene can still damage the output.
    destroy_.connect(&output_->events.destroy, [this](void*) { host_.output_destroyed(*this); });
    apply_config();

    // The scene output is the one wlr_scene_attach_output_layout makes while the output is in
    // the layout (placed where the layout puts it, gone when it leaves): a second one of our
    // own would be destroyed behind our back by that helper when the output leaves the layout.

    frame_.connect(&output_->events.frame, [this](void*) { on_frame(); });
    mode_.connect(&output_->events.mode, [this](void*) { host_.output_mode_changed(*this); });
    commit_.connect(&output_->events.commit, [this](wlr_output_event_commit* event) {
        if (!(event->committed & WLR_OUTPUT_STATE_BUFFER))
            return;
        if (event->buffer)
            track_shm_buffer(event->buffer);
        // Something else than a guest frame is on screen: that frame may change again.
        if (!FrameBuffer::find(event->buffer))
            scanout_hold_.reset();
        host_.output_presented(*this, frames_committed_++ == 0);
    });
}

Output::~Output() {
    if (overlay_node_)
        wlr_scene_node_destroy(&overlay_node_->node);
    if (output_)
        wlr_output_layout_remove(core_.output_layout(), output_);
}

void Output::apply_config() {
    const auto& cfg = config_;
    auto it = cfg.outputs.find(output_->name);
    const config::OutputConfig defaults;
    const config::OutputConfig& oc = it != cfg.outputs.end() ? it->second : defaults;

    if (!oc.enabled) {
        wlr_output_enable(output_, false);
        wlr_output_commit(output_);
        wlr_output_layout_remove(core_.output_layout(), output_);
        log::info("output {}: disabled by the config", output_->name);
        return;
    }
    wlr_output_enable(output_, true);
    wlr_output_set_scale(output_, static_cast<float>(oc.scale));
    bool mode_set = false;
    if (oc.mode) {
        wlr_output_mode* best = nullptr;
        wlr_output_mode* m;
        wl_list_for_each(m, &output_->modes, link) {
            if (m->width != oc.mode->width || m->height != oc.mode->height)
                continue;
            if (oc.mode->refresh_mhz == 0 ? (!best || m->refresh > best->refresh)
                                          : std::abs(m->refresh - oc.mode->refresh_mhz) <
                                                (best ? std::abs(best->refresh - oc.mode->refresh_mhz) : 1 << 30))
                best = m;
        }
        if (best)
            wlr_output_set_mode(output_, best);
        else // no such mode advertised: headless and nested outputs take any size
            wlr_output_set_custom_mode(output_, oc.mode->width, oc.mode->height, oc.mode->refresh_mhz);
        mode_set = wlr_output_test(output_);
        if (!mode_set)
            log::error("output {}: mode {}x{} from the config was refused; using the preferred mode",
                       output_->name, oc.mode->width, oc.mode->height);
        else if (!wlr_output_commit(output_)) {
            mode_set = false;
            log::error("output {}: committing mode {}x{} failed; using the preferred mode", output_->name,
                       oc.mode->width, oc.mode->height);
        }
    }
    if (!mode_set) {
        wlr_output_enable(output_, true);
        if (wlr_output_mode* preferred = wlr_output_preferred_mode(output_))
            wlr_output_set_mode(output_, preferred);
        if (!wlr_output_commit(output_)) {
            // As cage does: walk the modes until one works.
            wlr_output_mode* m;
            wl_list_for_each(m, &output_->modes, link) {
                wlr_output_set_mode(output_, m);
                if (wlr_output_commit(output_))
                    break;
            }
        }
    }
    if (oc.position)
        wlr_output_layout_add(core_.output_layout(), output_, oc.position->first, oc.position->second);
    else
        wlr_output_layout_add_auto(core_.output_layout(), output_);
    log::info("output {}: {}x{} scale {}", output_->name, output_->width, output_->height, output_->scale);
}

void Output::track_shm_buffer(wlr_buffer* buffer) {
    wlr_shm_attributes shm{};
    if (shm_buffers_.contains(buffer) || !wlr_buffer_get_shm(buffer, &shm))
        return;
    auto held = std::make_unique<ShmBuffer>();
    held->bytes = static_cast<std::size_t>(shm.stride) * static_cast<std::size_t>(shm.height);
    held->destroy.connect(&buffer->events.destroy, [this, buffer](void*) { shm_buffers_.erase(buffer); });
    shm_buffers_.emplace(buffer, std::move(held));
}

std::size_t Output::picture_bytes() const {
    std::size_t bytes = 0;
    for (const auto& [buffer, held] : shm_buffers_)
        bytes += held->bytes;
    if (overlay_node_ && overlay_node_->buffer)
        bytes += static_cast<std::size_t>(overlay_node_->buffer->width) * overlay_node_->buffer->height * 4;
    return bytes;
}

wlr_box Output::layout_box() const {
    wlr_box box{};
    if (const wlr_box* b = wlr_output_layout_get_box(core_.output_layout(), output_))
        box = *b;
    return box;
}

void Output::update_position() {
    wlr_box box = layout_box();
    if (overlay_node_)
        wlr_scene_node_set_position(&overlay_node_->node, box.x, box.y);
}

void Output::paint_overlay(const OverlayPaintInput& base) {
    if (!output_->enabled)
        return;
    wlr_box box = layout_box();
    if (box.width <= 0 || box.height <= 0)
        return;
    OverlayPaintInput in = base;
    in.width = box.width;
    in.height = box.height;
    in.scale = output_->scale;
    const int px_w = static_cast<int>(std::ceil(box.width * output_->scale));
    const int px_h = static_cast<int>(std::ceil(box.height * output_->scale));
    CairoBuffer* buffer = CairoBuffer::create(px_w, px_h);
    if (!buffer) {
        log::error("output {}: cannot allocate a {}x{} overlay image", output_->name, px_w, px_h);
        return;
    }
    cairo_t* cr = cairo_create(buffer->surface);
    if (!in.message.empty()) {
        paint_message(cr, in.width, in.height, in.scale, in.message, "", *in.style);
        hits_ = {};
    } else {
        hits_ = compositor::paint_overlay(cr, in);
    }
    cairo_destroy(cr);
    cairo_surface_flush(buffer->surface);

    // wlroots 0.15 cannot swap a scene buffer's content: put a new node in the old one's place.
    wlr_scene_buffer* node = scene_buffer_adopt(core_.overlay_layer(), &buffer->base, core_.renderer());
    if (!node) {
        log::error("output {}: the renderer cannot draw the overlay image", output_->name);
        return;
    }
    scene_buffer_fit(node, px_w, px_h, box.width, box.height);
    wlr_scene_node_set_position(&node->node, box.x, box.y);
    if (overlay_node_) {
        wlr_scene_node_place_above(&node->node, &overlay_node_->node);
        wlr_scene_node_destroy(&overlay_node_->node);
    }
    overlay_node_ = node;
    update_position();
}

void Output::drop_overlay_picture() {
    if (overlay_node_) {
        wlr_scene_node_destroy(&overlay_node_->node);
        overlay_node_ = nullptr;
    }
}

void Output::damage_pixels(const Placement::Box& b) {
    wlr_box box{b.x, b.y, b.width, b.height};
    if (wlr_scene_output* scene_output = wlr_scene_get_scene_output(core_.scene(), output_))
        wlr_output_damage_add_box(scene_output->damage, &box);
}

void Output::present_now() {
    if (!output_->enabled)
        return;
    // wlroots refuses a buffer while the last one waits for its frame (a page flip on DRM):
    // the frame event that ends the wait paints then.
    if (!output_->frame_pending)
        on_frame();
}

bool Output::commit_covered_scene(wlr_scene_output* scene_output) {
    bool needs_frame = false;
    pixman_region32_t damage;
    pixman_region32_init(&damage);
    if (!wlr_output_damage_attach_render(scene_output->damage, &needs_frame, &damage)) {
        pixman_region32_fini(&damage);
        return false;
    }
    if (!needs_frame) {
        pixman_region32_fini(&damage);
        wlr_output_rollback(output_);
        return true;
    }
    // Every scene buffer has its texture already (scene_buffer_adopt): nothing to import here.
    wlr_renderer_begin(output_->renderer, output_->width, output_->height);
    wlr_scene_render_output(core_.scene(), output_, scene_output->x, scene_output->y, &damage);
    wlr_output_render_software_cursors(output_, &damage);
    wlr_renderer_end(output_->renderer);
    pixman_region32_fini(&damage);

    int width = 0, height = 0;
    wlr_output_transformed_resolution(output_, &width, &height);
    pixman_region32_t frame_damage;
    pixman_region32_init(&frame_damage);
    wlr_region_transform(&frame_damage, &scene_output->damage->current,
                         wlr_output_transform_invert(output_->transform), width, height);
    wlr_output_set_damage(output_, &frame_damage);
    pixman_region32_fini(&frame_damage);
    return wlr_output_commit(output_);
}

bool Output::try_scanout(wlr_scene_output* scene_output) {
    if (scanout_refused_)
        return false;
    wlr_scene_buffer* node = sole_covering_buffer(core_.scene(), output_, layout_box());
    const FrameBuffer* frame = node ? FrameBuffer::find(node->buffer) : nullptr;
    if (!frame)
        return false;
    // Nothing new since the last commit: leave the output alone (no commit, no frame event
    // asked for), as the painting path does.
    if (scanning_out_ && scanout_buffer_ == node->buffer && !output_->needs_frame &&
        !pixman_region32_not_empty(&scene_output->damage->current))
        return true;
    frame->frame->settle(); // the output reads the memory directly, not through pixels()
    wlr_output_attach_buffer(output_, node->buffer);
    // Refused where the output cannot show this buffer as it is: a shm frame on DRM, a software
    // cursor on the output, a format the plane does not take.
    if (!wlr_output_test(output_)) {
        wlr_output_rollback(output_);
        return false;
    }
    // Held from here until the output shows something else: guestview's next Update goes to
    // another buffer instead of tearing this one.
    auto hold = frame->frame->hold_pixels();
    if (!wlr_output_commit(output_)) {
        // Some backends (X11 in wlroots 0.15) pass any buffer in the test and refuse it only
        // at the commit: paint from now on rather than fail every frame.
        log::info("output {}: the backend refused a guest frame it had accepted in its test; direct scan-out "
                  "is off for this output",
                  output_->name);
        scanout_refused_ = true;
        return false;
    }
    scanout_hold_ = std::move(hold);
    scanout_buffer_ = node->buffer;
    ++scanout_commits_;
    return true;
}

void Output::on_frame() {
    // The layout helper's scene output: none while the output is outside the layout.
    wlr_scene_output* scene_output = wlr_scene_get_scene_output(core_.scene(), output_);
    if (!scene_output)
        return;
    const bool scanning = try_scanout(scene_output);
    if (scanning != scanning_out_) {
        log::debug("output {}: direct scan-out {}", output_->name, scanning ? "started" : "stopped");
        // The output's own buffers missed everything shown meanwhile: repaint them whole.
        if (!scanning) {
            wlr_output_damage_add_whole(scene_output->damage);
            scanout_buffer_ = nullptr;
        }
        scanning_out_ = scanning;
    }
    bool committed = true;
    if (!scanning) {
        committed = host_.output_covered(*this) ? commit_covered_scene(scene_output)
                                                  : wlr_scene_output_commit(scene_output);
    }
    if (!committed)
        return;
    timespec now{};
    clock_gettime(CLOCK_MONOTONIC, &now);
    wlr_scene_output_send_frame_done(scene_output, &now);
}

} // namespace phyllome::compositor
