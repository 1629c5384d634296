#include "compositor/session_lock.hpp"

#include <algorithm>
#include <cmath>

#include "compositor/cairo_buffer.hpp"
#include "compositor/paint_kit.hpp"
#include "compositor/scene_buffer_util.hpp"
#include "compositor/wlr_core.hpp"
#include "config/log.hpp"

namespace phyllome::compositor {
namespace {
constexpr float black[4] = {0.f, 0.f, 0.f, 1.f};
constexpr int confirm_deadline_ms = 2000;
} // namespace

struct SessionLock::Screen {
    Output* output = nullptr;
    wlr_scene_tree* tree = nullptr; // at the output's place in the lock layer
    wlr_scene_rect* blank = nullptr;
    wlr_scene_buffer* message = nullptr;
    wlr_session_lock_surface_v1* surface = nullptr;
    // The first commit drawn with the blank, then whether the display showed it (its present
    // event: on DRM that is the page flip, after the commit).
    std::optional<std::uint32_t> blank_commit;
    bool presented = false;
    Listener<wlr_output_event_present> present;
    Listener<void> surface_destroy;
    Listener<void> surface_map;

    ~Screen() {
        present.disconnect();
        surface_destroy.disconnect();
        surface_map.disconnect();
        wlr_scene_node_destroy(&tree->node); // the blank, the message and the locker's surface tree
    }
};

SessionLock::SessionLock(wl_display* display, wlr_seat* seat, const SceneLayer& layer,
                         const std::list<std::unique_ptr<Output>>& outputs, SessionLockHost& host)
    : seat_(seat), layer_(layer), outputs_(outputs), host_(host) {
    auto* manager = wlr_require(wlr_session_lock_manager_v1_create(display), "session lock manager");
    new_lock_.connect(&manager->events.new_lock, [this](wlr_session_lock_v1* lock) { on_new_lock(lock); });
    manager_destroy_.connect(&manager->events.destroy, [this](void*) {
        new_lock_.disconnect();
        manager_destroy_.disconnect();
    });
    confirm_timer_.reset(wl_event_loop_add_timer(
        wl_display_get_event_loop(display),
        [](void* data) {
            static_cast<SessionLock*>(data)->send_locked("not every output showed the blank within 2 s");
            return 0;
        },
        this));
}

SessionLock::~SessionLock() {
    disconnect_client();
    screens_.clear();
}

std::optional<pid_t> SessionLock::locker_pid() const {
    if (!client_)
        return std::nullopt;
    pid_t pid = 0;
    wl_client_get_credentials(wl_resource_get_client(client_->resource), &pid, nullptr, nullptr);
    return pid;
}

void SessionLock::on_new_lock(wlr_session_lock_v1* lock) {
    if (client_) {
        log::warn("session lock: a second locker was refused, the session is already locked by pid {}",
                  locker_pid().value_or(0));
        wlr_session_lock_v1_destroy(lock); // sends `finished`
        return;
    }
    client_ = lock;
    sent_locked_ = false;
    client_new_surface_.connect(&lock->events.new_surface,
                                [this](wlr_session_lock_surface_v1* s) { on_new_surface(s); });
    client_unlock_.connect(&lock->events.unlock, [this](void*) { on_unlock(); });
    client_destroy_.connect(&lock->events.destroy, [this](void*) { on_abandoned(); });
    log::info("session lock: locked by pid {}", locker_pid().value_or(0));
    if (engaged_) {
        // A locker taking over an abandoned lock: the blank is already on every output.
        message_.clear();
        for (auto& s : screens_)
            paint_message(*s);
        send_locked("the blank was already shown");
        return;
    }
    engage();
}

void SessionLock::engage() {
    engaged_ = true;
    for (const auto& o : outputs_)
        output_added(*o);
    wl_event_source_timer_update(confirm_timer_.get(), confirm_deadline_ms);
    host_.lock_engaged(true); // paints every output now: their present events confirm
    confirm_when_shown();
}

void SessionLock::output_added(Output& output) {
    if (!engaged_ || screen_for(output.wlr()))
        return;
    // wlr_require throws when wlroots is out of memory: better the session ends than shows
    // unlocked (sway aborts there).
    auto screen = std::make_unique<Screen>();
    screen->output = &output;
    screen->tree = wlr_require(wlr_scene_tree_create(layer_.parent), "scene tree");
    screen->blank = wlr_require(wlr_scene_rect_create(screen->tree, 0, 0, black), "scene rect");
    place(*screen);
    paint_message(*screen);
    Screen* raw = screen.get();
    if (!sent_locked_)
        raw->present.connect(&output.wlr()->events.present, [this, raw](wlr_output_event_present* e) {
            if (!raw->blank_commit || !e->presented || e->commit_seq < *raw->blank_commit)
                return;
            raw->presented = true;
            raw->present.disconnect();
            confirm_when_shown();
        });
    screens_.push_back(std::move(screen));
}

void SessionLock::output_removed(Output& output) {
    screens_.remove_if([&](const auto& s) { return s->output == &output; });
    confirm_when_shown(); // the output left may be the one waited for
}

void SessionLock::output_committed(Output& output) {
    if (!engaged_ || sent_locked_)
        return;
    if (Screen* s = screen_for(output.wlr()); s && !s->blank_commit)
        s->blank_commit = output.wlr()->commit_seq; // this commit's: drawn from the scene with the blank
}

void SessionLock::confirm_when_shown() {
    if (!client_ || sent_locked_)
        return;
    // Outputs that are off or outside the layout show nothing, so there is nothing to wait for.
    const bool all = std::all_of(screens_.begin(), screens_.end(), [](const auto& s) {
        return s->presented || !s->output->wlr()->enabled || s->output->layout_box().width <= 0;
    });
    if (all)
        send_locked("every output shows the blank");
}

void SessionLock::send_locked(const char* why) {
    wl_event_source_timer_update(confirm_timer_.get(), 0);
    if (!client_ || sent_locked_)
        return;
    sent_locked_ = true;
    wlr_session_lock_v1_send_locked(client_);
    log::info("session lock: told the locker it is locked ({})", why);
    host_.lock_confirmed();
}

void SessionLock::relayout() {
    for (auto& s : screens_) {
        place(*s);
        paint_message(*s);
    }
}

SessionLock::Screen* SessionLock::screen_for(const wlr_output* output) {
    auto it = std::find_if(screens_.begin(), screens_.end(), [&](const auto& s) { return s->output->wlr() == output; });
    return it == screens_.end() ? nullptr : it->get();
}

void SessionLock::place(Screen& screen) {
    const wlr_box box = screen.output->layout_box();
    wlr_scene_node_set_position(&screen.tree->node, box.x, box.y);
    wlr_scene_rect_set_size(screen.blank, box.width, box.height);
    if (screen.surface && box.width > 0 && box.height > 0)
        wlr_session_lock_surface_v1_configure(screen.surface, static_cast<std::uint32_t>(box.width),
                                              static_cast<std::uint32_t>(box.height));
}

void SessionLock::on_new_surface(wlr_session_lock_surface_v1* surface) {
    Screen* screen = screen_for(surface->output);
    if (!screen || screen->surface) {
        // An output we do not show (off, or going): the surface stays unshown until it goes.
        log::warn("session lock: a lock surface for output {} that has no blank", surface->output->name);
        return;
    }
    screen->surface = surface;
    if (!wlr_scene_subsurface_tree_create(screen->tree, surface->surface))
        log::error("session lock: cannot show the locker's surface on {}", surface->output->name);
    screen->surface_map.connect(&surface->surface->events.map, [this](void*) {
        if (wlr_surface* focus = keyboard_surface(); focus && seat_->keyboard_state.focused_surface != focus)
            wlr_seat_keyboard_notify_enter(seat_, focus, nullptr, 0, nullptr);
    });
    screen->surface_destroy.connect(&surface->events.destroy, [screen](void*) {
        screen->surface_map.disconnect();
        screen->surface_destroy.disconnect();
        screen->surface = nullptr; // its scene tree goes with the wlr_surface
    });
    place(*screen); // configures it at the output's size
}

wlr_surface* SessionLock::keyboard_surface() const {
    for (const auto& s : screens_)
        if (s->surface && s->surface->surface->mapped)
            return s->surface->surface;
    return nullptr;
}

wlr_surface* SessionLock::surface_at(double lx, double ly, double& sx, double& sy) const {
    return scene_surface_at(layer_.parent, lx, ly, sx, sy);
}

void SessionLock::disconnect_client() {
    client_new_surface_.disconnect();
    client_unlock_.disconnect();
    client_destroy_.disconnect();
    client_ = nullptr;
}

void SessionLock::on_unlock() {
    log::info("session lock: unlocked by pid {}", locker_pid().value_or(0));
    disconnect_client();
    wl_event_source_timer_update(confirm_timer_.get(), 0);
    engaged_ = false;
    message_.clear();
    screens_.clear();
    wlr_seat_keyboard_notify_clear_focus(seat_);
    wlr_seat_pointer_notify_clear_focus(seat_);
    host_.lock_engaged(false);
}

void SessionLock::on_abandoned() {
    log::warn("session lock: the locker (pid {}) went away without unlocking; the session stays locked",
              locker_pid().value_or(0));
    disconnect_client();
    wl_event_source_timer_update(confirm_timer_.get(), 0);
    host_.locker_lost();
}

void SessionLock::set_message(std::string text) {
    message_ = std::move(text);
    for (auto& s : screens_)
        paint_message(*s);
}

void SessionLock::paint_message(Screen& screen) {
    if (screen.message) {
        wlr_scene_node_destroy(&screen.message->node);
        screen.message = nullptr;
    }
    const wlr_box box = screen.output->layout_box();
    if (message_.empty() || box.width <= 0 || box.height <= 0)
        return;
    const config::OverlayConfig& style = layer_.config->overlay;
    const double scale = screen.output->wlr()->scale;
    // Measured on a scratch surface first: the picture is only as big as the text.
    cairo_surface_t* scratch = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, 1, 1);
    cairo_t* measure_cr = cairo_create(scratch);
    const auto [tw, th] = paint::Text(measure_cr, style.font).measure(message_, style.font_size, false, box.width - 40);
    cairo_destroy(measure_cr);
    cairo_surface_destroy(scratch);
    const int w = tw + 40, h = th + 24;
    const int px_w = static_cast<int>(std::ceil(w * scale)), px_h = static_cast<int>(std::ceil(h * scale));
    CairoBuffer* buffer = CairoBuffer::create(px_w, px_h);
    if (!buffer) {
        log::error("session lock: cannot allocate a {}x{} picture for the message", px_w, px_h);
        return;
    }
    cairo_t* cr = cairo_create(buffer->surface);
    cairo_scale(cr, scale, scale);
    paint::set(cr, paint::rgb(0x000000));
    cairo_paint(cr);
    paint::Text(cr, style.font).draw(20, 12, message_, style.font_size, paint::rgb(0x9a9a9a), false, box.width - 40);
    cairo_destroy(cr);
    cairo_surface_flush(buffer->surface);
    screen.message = scene_buffer_adopt(screen.tree, &buffer->base, layer_.renderer);
    if (!screen.message) {
        log::error("session lock: the renderer cannot draw the message");
        return;
    }
    scene_buffer_fit(screen.message, px_w, px_h, w, h);
    wlr_scene_node_set_position(&screen.message->node, (box.width - w) / 2, (box.height - h) / 2);
}

} // namespace phyllome::compositor
