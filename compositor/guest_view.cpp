#include "compositor/guest_view.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include <drm_fourcc.h>
#include <fmt/format.h>

#include "compositor/cairo_buffer.hpp"
#include "compositor/frame_buffer.hpp"
#include "compositor/output.hpp"
#include "compositor/overlay_painter.hpp"
#include "compositor/scene_buffer_util.hpp"
#include "config/log.hpp"

namespace phyllome::compositor {
namespace {

bool same_geometry(const guestview::FrameGeometry& a, const guestview::FrameGeometry& b) {
    return a.width == b.width && a.height == b.height && a.stride == b.stride && a.format == b.format;
}

// Whether the renderer imports both frames the same way: CPU memory, or a dmabuf of one layout.
bool same_storage(const guestview::Frame& a, const guestview::Frame& b) {
    const guestview::DmabufAttributes* da = a.dmabuf();
    const guestview::DmabufAttributes* db = b.dmabuf();
    if (!da || !db)
        return !da && !db;
    return da->num_planes == db->num_planes && da->modifier == db->modifier && da->fourcc == db->fourcc;
}

} // namespace

GuestView::GuestView(const SceneLayer& layer, std::string guest) : layer_(layer), guest_(std::move(guest)) {
    tree_ = wlr_scene_tree_create(layer_.parent);
    if (!tree_)
        throw std::runtime_error("wlroots: cannot create a scene tree for a guest");
    wlr_scene_node_set_enabled(&tree_->node, false);
}

GuestView::~GuestView() {
    for (auto& s : slots_)
        destroy_slot(s);
    wlr_scene_node_destroy(&tree_->node);
}

void GuestView::set_visible(bool visible) {
    visible_ = visible;
    for (auto& slot : slots_) {
        slot.pending_since_ms.reset();
        slot.sampling.clear();
    }
    wlr_scene_node_set_enabled(&tree_->node, visible);
}

bool GuestView::has_frame() const {
    for (const auto& [id, st] : consoles_)
        if (st.frame && !st.display_off)
            return true;
    return false;
}

void GuestView::collect_frames(std::vector<const guestview::Frame*>& out) const {
    for (const auto& [id, st] : consoles_)
        if (st.frame)
            out.push_back(st.frame.get());
}

void GuestView::destroy_slot(Slot& s) {
    for (wlr_scene_buffer** n : {&s.frame_node, &s.message_node, &s.cursor_node})
        if (*n) {
            wlr_scene_node_destroy(&(*n)->node);
            *n = nullptr;
        }
    s.frame_lock.reset();
}

void GuestView::layout(const std::list<std::unique_ptr<Output>>& outputs, const std::vector<std::uint32_t>& consoles) {
    for (auto& s : slots_)
        destroy_slot(s);
    slots_.clear();
    heads_ = consoles;
    std::size_t index = 0;
    for (const auto& o : outputs) {
        if (!o->wlr()->enabled)
            continue;
        // Head N on output N; outputs beyond the guest's heads show head 0 again.
        const std::uint32_t head = index < consoles.size() ? static_cast<std::uint32_t>(index) : 0;
        const std::uint32_t console = consoles.empty() ? 0 : consoles[head];
        ++index;
        slots_.push_back(Slot{o.get(), console, head});
        Slot& slot = slots_.back();
        ConsoleState& st = state_of(console);
        show_frame_or_message(slot, st);
        update_cursor(slot, st);
    }
}

void GuestView::forget_output(const Output& output) {
    for (auto it = slots_.begin(); it != slots_.end();) {
        if (it->output == &output) {
            destroy_slot(*it);
            it = slots_.erase(it);
        } else {
            ++it;
        }
    }
}

void GuestView::show_message(Slot& slot, const ConsoleState& st) {
    if (slot.frame_node) {
        wlr_scene_node_destroy(&slot.frame_node->node);
        slot.frame_node = nullptr;
        slot.frame_lock.reset();
    }
    const wlr_box box = slot.output->layout_box();
    const double scale = slot.output->wlr()->scale;
    const int pw = static_cast<int>(std::ceil(box.width * scale)), ph = static_cast<int>(std::ceil(box.height * scale));
    if (pw <= 0 || ph <= 0)
        return;
    CairoBuffer* buffer = CairoBuffer::create(pw, ph);
    if (!buffer)
        return;
    cairo_t* cr = cairo_create(buffer->surface);
    if (st.display_off && heads_.size() > 1)
        paint_message(cr, box.width, box.height, scale, fmt::format("{}: head {} is off", guest_, slot.head),
                      fmt::format("The guest turned its screen {} off. It comes back as soon as the guest draws on it "
                                  "again.",
                                  slot.head),
                      layer_.config->overlay);
    else if (st.display_off)
        paint_message(cr, box.width, box.height, scale, fmt::format("{}: display off", guest_),
                      "The guest turned its screen off. It comes back as soon as the guest draws again.",
                      layer_.config->overlay);
    else if (st.unshowable)
        paint_message(cr, box.width, box.height, scale, fmt::format("{}: this screen cannot be shown", guest_),
                      fmt::format("The guest draws {}x{} pixels in a format this renderer cannot show (pixman 0x{:08x}, "
                                  "{} bytes a row). The guest keeps running: change its resolution or colour depth.",
                                  st.unshowable->width, st.unshowable->height, st.unshowable->format.pixman,
                                  st.unshowable->stride),
                      layer_.config->overlay);
    else
        paint_message(cr, box.width, box.height, scale, fmt::format("Waiting for {}…", guest_),
                      "The guest is running; its screen appears here with its first frame.",
                      layer_.config->overlay);
    cairo_destroy(cr);
    cairo_surface_flush(buffer->surface);
    if (slot.message_node ? !scene_buffer_replace(slot.message_node, &buffer->base, layer_.renderer)
                          : !(slot.message_node = scene_buffer_adopt(tree_, &buffer->base, layer_.renderer)))
        return;
    scene_buffer_fit(slot.message_node, pw, ph, box.width, box.height);
    wlr_scene_node_set_position(&slot.message_node->node, box.x, box.y);
}

void GuestView::show_frame_or_message(Slot& slot, ConsoleState& st) {
    if (!st.frame || st.display_off) {
        show_message(slot, st);
        return;
    }
    // Updates to a surface that cannot be shown leave its message as it is (no repaint each).
    const bool message_up = st.unshowable && slot.message_node && !slot.frame_node;
    const guestview::FrameGeometry& g = st.frame->geometry();
    if (show_frame(slot, st) || (message_up && same_geometry(*st.unshowable, g)))
        return;
    show_message(slot, st);
}

bool GuestView::show_frame(Slot& slot, ConsoleState& st) {
    const guestview::FrameGeometry& g = st.frame->geometry();
    // Updates to a surface already found unshowable are not tried (and logged) again.
    if (st.unshowable && same_geometry(*st.unshowable, g))
        return false;
    const wlr_box box = slot.output->layout_box();
    FrameBuffer* buffer = FrameBuffer::create(st.frame);
    BufferLock lock = buffer ? lock_buffer(&buffer->base) : nullptr;
    const bool shown = buffer && (slot.frame_node ? scene_buffer_replace(slot.frame_node, &buffer->base, layer_.renderer)
                                                  : (slot.frame_node = scene_buffer_adopt(tree_, &buffer->base,
                                                                                          layer_.renderer)) != nullptr);
    if (!shown) {
        log::error("guest {}: the renderer cannot show its {}x{} screen (pixman format 0x{:08x}, {} bytes a row); "
                   "showing a message instead",
                   guest_, g.width, g.height, g.format.pixman, g.stride);
        st.unshowable = g;
        if (slot.frame_node) {
            wlr_scene_node_destroy(&slot.frame_node->node);
            slot.frame_node = nullptr;
            slot.frame_lock.reset();
        }
        return false;
    }
    slot.frame_lock = std::move(lock);
    st.unshowable.reset();
    slot.placement = place_frame(box.x, box.y, box.width, box.height, slot.output->wlr()->scale,
                                 static_cast<int>(st.frame->width()), static_cast<int>(st.frame->height()));
    const Placement& p = slot.placement;
    wlr_scene_buffer* node = slot.frame_node;
    const auto* dmabuf = st.frame->dmabuf();
    wlr_scene_buffer_set_transform(node, dmabuf && dmabuf->y0_top ? WL_OUTPUT_TRANSFORM_FLIPPED_180
                                                                  : WL_OUTPUT_TRANSFORM_NORMAL);
    // Guest pixels scale by nearest neighbour: the picture stays exact at whole scales, and the
    // CPU renderer's bilinear filter costs several times the CPU per frame and darkens the
    // picture's edges (it blends in the transparent outside).
    wlr_scene_buffer_set_filter_mode(node, WLR_SCALE_FILTER_NEAREST);
    scene_buffer_fit(node, static_cast<int>(st.frame->width()), static_cast<int>(st.frame->height()),
                     static_cast<int>(std::lround(p.width)), static_cast<int>(std::lround(p.height)));
    if (dmabuf && dmabuf->cropped()) {
        // The buffer is the whole backing allocation (FrameBuffer::create); only the visible
        // sub-rectangle is shown. The source box is in buffer memory coordinates, before the
        // y0_top flip, hence to_buffer.
        const guestview::Rect r = dmabuf->to_buffer({0, 0, static_cast<std::int32_t>(st.frame->width()),
                                                     static_cast<std::int32_t>(st.frame->height())});
        const wlr_fbox source{static_cast<double>(r.x), static_cast<double>(r.y), static_cast<double>(r.width),
                              static_cast<double>(r.height)};
        wlr_scene_buffer_set_source_box(node, &source);
    }
    wlr_scene_node_set_position(&node->node, static_cast<int>(std::lround(p.x)), static_cast<int>(std::lround(p.y)));
    if (slot.message_node) {
        wlr_scene_node_destroy(&slot.message_node->node);
        slot.message_node = nullptr;
    }
    if (slot.cursor_node)
        wlr_scene_node_raise_to_top(&slot.cursor_node->node);
    return true;
}

void GuestView::on_frame(std::uint32_t console, const guestview::FrameEvent& ev) {
    ConsoleState& st = state_of(console);
    const bool was_off = st.display_off || !st.frame;
    const bool resized = st.frame && (st.frame->width() != ev.frame->width() || st.frame->height() != ev.frame->height());
    // "Cannot be shown" is remembered per geometry so Updates are not retried; a new buffer stored
    // differently (a Scanout after a multi-plane or tiled dmabuf of the same size) may be showable.
    if (st.unshowable && st.frame && ev.new_buffer && !same_storage(*st.frame, *ev.frame))
        st.unshowable.reset();
    st.frame = ev.frame;
    st.display_off = false;
    const double received_ms = monotonic_ms();
    for (auto& slot : slots_) {
        if (slot.console != console)
            continue;
        if (visible_ && !slot.pending_since_ms)
            slot.pending_since_ms = received_ms;
        if (visible_ && ev.sampling_done)
            slot.sampling.push_back(ev.sampling_done); // a hidden guest is never held back
        if (ev.new_buffer || !slot.frame_node || was_off || resized) {
            show_frame_or_message(slot, st);
            update_cursor(slot, st);
            continue;
        }
        // Same buffer, new pixels in place: only the damaged rectangle is painted again. Damage
        // is in frame coordinates; the scene wants buffer coordinates (they differ for a dmabuf
        // showing a sub-rectangle or stored bottom-up).
        const auto* dmabuf = ev.frame->dmabuf();
        const guestview::Rect d = dmabuf ? dmabuf->to_buffer(ev.damage) : ev.damage;
        scene_buffer_damage(slot.frame_node, static_cast<int>(d.x), static_cast<int>(d.y), static_cast<int>(d.width),
                            static_cast<int>(d.height));
    }
}

void GuestView::on_display_off(std::uint32_t console) {
    ConsoleState& st = state_of(console);
    st.display_off = true;
    st.frame.reset(); // a stale frame must not stay on screen
    for (auto& slot : slots_)
        if (slot.console == console) {
            show_message(slot, st);
            update_cursor(slot, st);
        }
}

void GuestView::on_cursor(std::uint32_t console, const guestview::CursorShape& shape) {
    ConsoleState& st = state_of(console);
    st.cursor = shape;
    for (auto& slot : slots_) {
        if (slot.console != console)
            continue;
        if (slot.cursor_node) {
            wlr_scene_node_destroy(&slot.cursor_node->node);
            slot.cursor_node = nullptr;
        }
        update_cursor(slot, st);
    }
}

void GuestView::on_guest_pointer(std::uint32_t console, const guestview::PointerPosition& position) {
    ConsoleState& st = state_of(console);
    st.guest_pointer = position;
    for (auto& slot : slots_)
        if (slot.console == console)
            update_cursor(slot, st);
}

void GuestView::on_host_pointer(double lx, double ly) {
    host_pointer_ = {lx, ly};
    for (auto& slot : slots_)
        if (state_of(slot.console).absolute)
            update_cursor(slot, state_of(slot.console));
}

void GuestView::set_absolute(std::uint32_t console, bool absolute) {
    ConsoleState& st = state_of(console);
    st.absolute = absolute;
    for (auto& slot : slots_)
        if (slot.console == console)
            update_cursor(slot, st);
}

void GuestView::update_cursor(Slot& slot, const ConsoleState& st) {
    const auto& c = st.cursor;
    if (!slot.frame_node || c.width <= 0 || c.height <= 0 || !c.argb || !st.guest_pointer.visible) {
        if (slot.cursor_node)
            wlr_scene_node_set_enabled(&slot.cursor_node->node, false);
        return;
    }
    if (!slot.cursor_node) {
        CairoBuffer* buffer = CairoBuffer::create(c.width, c.height);
        if (!buffer)
            return;
        cairo_surface_flush(buffer->surface);
        unsigned char* dst = cairo_image_surface_get_data(buffer->surface);
        const int stride = cairo_image_surface_get_stride(buffer->surface);
        for (int y = 0; y < c.height; ++y)
            std::memcpy(dst + y * stride, c.argb.get() + std::size_t(y) * c.width * 4, std::size_t(c.width) * 4);
        cairo_surface_mark_dirty(buffer->surface);
        slot.cursor_node = scene_buffer_adopt(tree_, &buffer->base, layer_.renderer);
        if (!slot.cursor_node)
            return;
    }
    // Where the hot spot goes: our pointer in absolute mode (no round-trip lag), else the guest's.
    double gx = st.guest_pointer.x, gy = st.guest_pointer.y;
    if (st.absolute && host_pointer_) {
        if (auto g = slot.placement.to_guest(host_pointer_->first, host_pointer_->second)) {
            gx = g->first;
            gy = g->second;
        }
    }
    const Placement& p = slot.placement;
    scene_buffer_fit(slot.cursor_node, c.width, c.height, std::max(1, static_cast<int>(std::lround(c.width * p.scale))),
                     std::max(1, static_cast<int>(std::lround(c.height * p.scale))));
    // A guest may put its pointer anywhere in int32: kept far enough inside int that wlroots'
    // box arithmetic (position + size) cannot overflow, and still off every output.
    const auto layout_coordinate = [](double v) {
        constexpr double bound = 1 << 24;
        return static_cast<int>(std::lround(std::clamp(v, -bound, bound)));
    };
    wlr_scene_node_set_position(&slot.cursor_node->node, layout_coordinate(p.x + (gx - c.hot_x) * p.scale),
                                layout_coordinate(p.y + (gy - c.hot_y) * p.scale));
    wlr_scene_node_set_enabled(&slot.cursor_node->node, true);
    wlr_scene_node_raise_to_top(&slot.cursor_node->node);
}

std::optional<GuestPoint> GuestView::to_guest(double lx, double ly) const {
    for (const auto& slot : slots_) {
        const wlr_box box = slot.output->layout_box();
        if (lx < box.x || ly < box.y || lx >= box.x + box.width || ly >= box.y + box.height)
            continue;
        const auto it = consoles_.find(slot.console);
        if (it == consoles_.end() || !it->second.frame)
            return std::nullopt;
        // In the black bars the pointer sticks to the nearest edge of the picture.
        const Placement& p = slot.placement;
        const double cx = std::clamp(lx, p.x, p.x + p.width - 1e-6), cy = std::clamp(ly, p.y, p.y + p.height - 1e-6);
        if (auto g = p.to_guest(cx, cy))
            return GuestPoint{slot.console, g->first, g->second};
        return std::nullopt;
    }
    return std::nullopt;
}

std::optional<std::uint32_t> GuestView::console_at(double lx, double ly) const {
    for (const auto& slot : slots_) {
        const wlr_box box = slot.output->layout_box();
        if (lx >= box.x && ly >= box.y && lx < box.x + box.width && ly < box.y + box.height)
            return slot.console;
    }
    return slots_.empty() ? std::nullopt : std::optional{slots_.front().console};
}

void GuestView::on_output_commit(const Output& output) {
    const double now = monotonic_ms();
    for (auto& slot : slots_) {
        if (slot.output != &output)
            continue;
        slot.sampling.clear(); // the renderer has read the dmabuf for this commit
        if (!slot.pending_since_ms)
            continue;
        present_latency_.add(now - *slot.pending_since_ms);
        ++frames_presented_;
        slot.pending_since_ms.reset();
    }
}

std::optional<std::uint32_t> GuestView::head_on(const Output& output) const {
    for (const auto& slot : slots_)
        if (slot.output == &output)
            return slot.head;
    return std::nullopt;
}

std::optional<std::uint32_t> GuestView::console_of_head(std::uint32_t head) const {
    if (head >= heads_.size())
        return std::nullopt;
    return heads_[head];
}

const Output* GuestView::output_of(std::uint32_t console) const {
    for (const auto& slot : slots_)
        if (slot.console == console)
            return slot.output;
    return nullptr;
}

} // namespace phyllome::compositor
