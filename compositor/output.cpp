#include "compositor/output.hpp"

#include <cmath>
#include <ctime>
#include <utility>

#include "compositor/cairo_buffer.hpp"
#include "compositor/frame_buffer.hpp"
#include "compositor/overlay_painter.hpp"
#include "compositor/scene_buffer_util.hpp"
#include "config/log.hpp"

namespace phyllome::compositor {

static_assert(static_cast<int>(config::Transform::Rotate90) == WL_OUTPUT_TRANSFORM_90 &&
                  static_cast<int>(config::Transform::Flipped270) == WL_OUTPUT_TRANSFORM_FLIPPED_270,
              "config::Transform converts to wl_output_transform by a cast");

Output::Output(WlrCore& core, const config::Config& config, OutputHost& host, wlr_output* output)
    : core_(core), config_(config), host_(host), output_(output) {
    if (!wlr_output_init_render(output_, core_.allocator(), core_.renderer()))
        throw std::runtime_error(fmt::format("cannot initialise rendering on output {}", output_->name));
    // Registered before the scene output exists, so it runs before wlroots frees that output's
    // damage tracking: our nodes are destroyed while the scene can still damage the output.
    destroy_.connect(&output_->events.destroy, [this](void*) { host_.output_destroyed(*this); });
    apply_config();

    frame_.connect(&output_->events.frame, [this](void*) { on_frame(); });
    commit_.connect(&output_->events.commit, [this](wlr_output_event_commit* event) { on_commit(*event); });
    // A nested backend's window was resized, or a DRM output asks for a new mode.
    request_state_.connect(&output_->events.request_state, [this](wlr_output_event_request_state* event) {
        if (!wlr_output_commit_state(output_, event->state))
            log::error("output {}: the state it asked for was refused", output_->name);
    });
}

Output::~Output() {
    if (overlay_node_)
        wlr_scene_node_destroy(&overlay_node_->node);
    if (output_)
        wlr_output_layout_remove(core_.output_layout(), output_);
}

void Output::on_commit(const wlr_output_event_commit& event) {
    const std::uint32_t committed = event.state->committed;
    if (committed & (WLR_OUTPUT_STATE_MODE | WLR_OUTPUT_STATE_SCALE | WLR_OUTPUT_STATE_TRANSFORM |
                     WLR_OUTPUT_STATE_ENABLED))
        host_.output_mode_changed(*this);
    if (!(committed & WLR_OUTPUT_STATE_BUFFER))
        return;
    wlr_buffer* buffer = event.state->buffer;
    // The scene scanned a guest frame out: guestview writes its next Updates elsewhere until
    // the output shows something else.
    const FrameBuffer* frame = FrameBuffer::find(buffer);
    const bool scanning = frame != nullptr;
    if (scanning != scanning_out_) {
        log::debug("output {}: direct scan-out {}", output_->name, scanning ? "started" : "stopped");
        if (!scanning) {
            retry_scanout_ = true;
            wlr_output_schedule_frame(output_);
        }
    }
    scanning_out_ = scanning;
    if (frame) {
        scanout_hold_ = frame->frame->hold_pixels();
        ++scanout_commits_;
    } else {
        scanout_hold_.reset();
    }
    host_.output_presented(*this, frames_committed_++ == 0);
}

bool Output::commit(wlr_output_state& state, const char* what) {
    if (wlr_output_commit_state(output_, &state))
        return true;
    log::error("output {}: {} was refused", output_->name, what);
    return false;
}

void Output::apply_config() {
    const auto& cfg = config_;
    auto it = cfg.outputs.find(output_->name);
    const config::OutputConfig defaults;
    const config::OutputConfig& oc = it != cfg.outputs.end() ? it->second : defaults;

    if (!oc.enabled) {
        OutputState off;
        wlr_output_state_set_enabled(&off.state, false);
        commit(off.state, "turning it off");
        leave_layout();
        log::info("output {}: disabled by the config", output_->name);
        return;
    }
    apply_mode(oc);
    place(oc.position);
    log::info("output {}: {}", output_->name, describe());
}

void Output::place(std::optional<std::pair<int, int>> position) {
    wlr_output_layout_output* placed =
        position ? wlr_output_layout_add(core_.output_layout(), output_, position->first, position->second)
                 : wlr_output_layout_add_auto(core_.output_layout(), output_);
    core_.place_in_scene(output_, placed);
}

void Output::leave_layout() {
    wlr_output_layout_remove(core_.output_layout(), output_);
    // Its picture would stay where the output was, over whatever is placed there next.
    drop_overlay_picture();
}

bool Output::in_layout() const { return wlr_output_layout_get(core_.output_layout(), output_) != nullptr; }

std::string Output::describe() const {
    const wlr_box box = layout_box();
    return fmt::format("{}x{} scale {} transform {} at {},{}{}", output_->width, output_->height, output_->scale,
                       config::to_string(static_cast<config::Transform>(output_->transform)), box.x, box.y,
                       output_->enabled ? "" : " (off)");
}

void Output::apply_mode(const config::OutputConfig& oc) {
    const auto base = [&](wlr_output_state& s) {
        wlr_output_state_set_enabled(&s, true);
        wlr_output_state_set_scale(&s, static_cast<float>(oc.scale));
        wlr_output_state_set_transform(&s, static_cast<wl_output_transform>(oc.transform));
    };
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
        OutputState wanted;
        base(wanted.state);
        if (best)
            wlr_output_state_set_mode(&wanted.state, best);
        else // no such mode advertised: headless and nested outputs take any size
            wlr_output_state_set_custom_mode(&wanted.state, oc.mode->width, oc.mode->height, oc.mode->refresh_mhz);
        if (!wlr_output_test_state(output_, &wanted.state))
            log::error("output {}: mode {}x{} from the config was refused; using the preferred mode", output_->name,
                       oc.mode->width, oc.mode->height);
        else if (commit(wanted.state, "the config's mode"))
            return;
    }
    OutputState preferred;
    base(preferred.state);
    if (wlr_output_mode* mode = wlr_output_preferred_mode(output_))
        wlr_output_state_set_mode(&preferred.state, mode);
    if (wlr_output_commit_state(output_, &preferred.state))
        return;
    // As cage does: walk the modes until one works.
    wlr_output_mode* m;
    wl_list_for_each(m, &output_->modes, link) {
        OutputState any;
        base(any.state);
        wlr_output_state_set_mode(&any.state, m);
        if (wlr_output_commit_state(output_, &any.state))
            return;
    }
    log::error("output {}: no mode works", output_->name);
}

std::size_t Output::picture_bytes() const {
    std::size_t bytes = 0;
    // The buffers the output paints into, when they live in memory (a CPU renderer's).
    if (const wlr_swapchain* swapchain = output_->swapchain)
        for (const wlr_swapchain_slot& slot : swapchain->slots)
            if (wlr_shm_attributes shm{}; slot.buffer && wlr_buffer_get_shm(slot.buffer, &shm))
                bytes += static_cast<std::size_t>(shm.stride) * static_cast<std::size_t>(shm.height);
    if (overlay_picture_)
        bytes += static_cast<std::size_t>(overlay_picture_->width) * overlay_picture_->height * 4;
    return bytes;
}

wlr_box Output::layout_box() const {
    wlr_box box{}; // empty while the output is outside the layout
    wlr_output_layout_get_box(core_.output_layout(), output_, &box);
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

    BufferLock picture = lock_buffer(&buffer->base);
    const bool shown = overlay_node_ ? scene_buffer_replace(overlay_node_, &buffer->base, core_.renderer())
                                     : (overlay_node_ = scene_buffer_adopt(core_.overlay_layer(), &buffer->base,
                                                                           core_.renderer())) != nullptr;
    if (!shown) {
        log::error("output {}: the renderer cannot draw the overlay image", output_->name);
        return;
    }
    overlay_picture_ = std::move(picture);
    scene_buffer_fit(overlay_node_, px_w, px_h, box.width, box.height);
    update_position();
}

void Output::drop_overlay_picture() {
    if (overlay_node_) {
        wlr_scene_node_destroy(&overlay_node_->node);
        overlay_node_ = nullptr;
    }
    overlay_picture_.reset();
}

void Output::present_now() {
    if (!output_->enabled)
        return;
    // wlroots refuses a buffer while the last one waits for its frame (a page flip on DRM):
    // the frame event that ends the wait paints then.
    if (!output_->frame_pending)
        on_frame();
}

void Output::on_frame() {
    // None while the output is outside the layout.
    wlr_scene_output* scene_output = wlr_scene_get_scene_output(core_.scene(), output_);
    if (!scene_output)
        return;
    // The scene paints only what changed, clears only what no opaque node covers, and scans a
    // buffer out when it alone covers the output pixel for pixel.
    if (std::exchange(retry_scanout_, false)) {
        OutputState state; // wlr_scene_output_commit would skip a frame without damage
        if (!wlr_scene_output_build_state(scene_output, &state.state, nullptr) ||
            !wlr_output_commit_state(output_, &state.state))
            return;
    } else if (!wlr_scene_output_commit(scene_output, nullptr)) {
        return;
    }
    timespec now{};
    clock_gettime(CLOCK_MONOTONIC, &now);
    wlr_scene_output_send_frame_done(scene_output, &now);
}

} // namespace phyllome::compositor
