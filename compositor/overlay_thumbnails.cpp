#include "compositor/overlay_thumbnails.hpp"

#include <algorithm>
#include <cmath>

#include "compositor/frame_buffer.hpp"
#include "compositor/scene_buffer_util.hpp"

namespace phyllome::compositor {

OverlayThumbnails::OverlayThumbnails(wl_event_loop* loop, wlr_scene_tree* layer, wlr_renderer* renderer,
                                     FrameOf frame_of)
    : loop_(loop), renderer_(renderer), frame_of_(std::move(frame_of)) {
    tree_ = wlr_scene_tree_create(layer);
    if (!tree_)
        throw std::runtime_error("wlroots: cannot create a scene tree for the overlay's thumbnails");
}

OverlayThumbnails::~OverlayThumbnails() {
    clear();
    wlr_scene_node_destroy(&tree_->node);
}

void OverlayThumbnails::drop_node(Thumb& t) {
    if (t.node)
        wlr_scene_node_destroy(&t.node->node); // the scene unlocks the buffer, which frees the frame
    t.node = nullptr;
    t.frame = nullptr;
}

void OverlayThumbnails::clear() {
    for (auto& t : thumbs_)
        drop_node(t);
    thumbs_.clear();
    timer_.reset();
}

std::size_t OverlayThumbnails::shown() const {
    return static_cast<std::size_t>(std::count_if(thumbs_.begin(), thumbs_.end(), [](const Thumb& t) { return t.node; }));
}

void OverlayThumbnails::place(std::vector<Spot> spots) {
    std::vector<Thumb> next;
    for (auto& spot : spots) {
        // A guest keeps its node (and the frame it shows) across repaints of the overlay.
        auto it = std::find_if(thumbs_.begin(), thumbs_.end(), [&](const Thumb& t) {
            return t.node && t.spot.guest == spot.guest && t.spot.box.width == spot.box.width &&
                   t.spot.box.height == spot.box.height;
        });
        Thumb t;
        if (it != thumbs_.end()) {
            t = *it;
            it->node = nullptr;
        }
        t.spot = std::move(spot);
        next.push_back(std::move(t));
    }
    for (auto& t : thumbs_)
        drop_node(t);
    thumbs_ = std::move(next);
    for (auto& t : thumbs_)
        update(t);
    wlr_scene_node_raise_to_top(&tree_->node); // above the overlay's picture, made after us
    if (thumbs_.empty())
        timer_.reset();
    else if (!timer_) {
        timer_.reset(wl_event_loop_add_timer(loop_, &on_timer, this));
        if (timer_)
            wl_event_source_timer_update(timer_.get(), refresh_ms);
    }
}

int OverlayThumbnails::on_timer(void* data) {
    auto* self = static_cast<OverlayThumbnails*>(data);
    self->refresh();
    wl_event_source_timer_update(self->timer_.get(), refresh_ms);
    return 0;
}

void OverlayThumbnails::refresh() {
    for (auto& t : thumbs_)
        update(t);
}

void OverlayThumbnails::update(Thumb& t) {
    const GuestFrame now = frame_of_(t.spot.guest);
    if (!now.frame) {
        drop_node(t);
        return;
    }
    if (t.node && now.frame.get() == t.frame) {
        if (now.serial == t.serial)
            return;
        // The same buffer rewritten in place: the scene samples it again.
        scene_buffer_damage(t.node, 0, 0, static_cast<int>(t.frame->width()), static_cast<int>(t.frame->height()));
    } else {
        FrameBuffer* buffer = FrameBuffer::create(now.frame);
        if (!buffer) {
            drop_node(t);
            return;
        }
        if (t.node ? !scene_buffer_replace(t.node, &buffer->base, renderer_)
                   : !(t.node = scene_buffer_adopt(tree_, &buffer->base, renderer_))) {
            drop_node(t); // a frame the renderer cannot sample: the painter's empty frame stays
            return;
        }
        t.frame = now.frame.get();
        // Smooth when scaled down this far; the guest's own view stays nearest-neighbour.
        wlr_scene_buffer_set_filter_mode(t.node, WLR_SCALE_FILTER_BILINEAR);
    }
    t.serial = now.serial;
    ++refreshes_;
    // Fitted into the place with the guest's aspect ratio, centred.
    const wlr_box& box = t.spot.box;
    const double fw = t.frame->width(), fh = t.frame->height();
    const double s = std::min(box.width / fw, box.height / fh);
    const int w = std::max(1, static_cast<int>(std::lround(fw * s))), h = std::max(1, static_cast<int>(std::lround(fh * s)));
    scene_buffer_fit(t.node, static_cast<int>(fw), static_cast<int>(fh), w, h);
    wlr_scene_node_set_position(&t.node->node, box.x + (box.width - w) / 2, box.y + (box.height - h) / 2);
}

} // namespace phyllome::compositor
