#include "compositor/guest_stage.hpp"

#include <algorithm>
#include <utility>

#include <fmt/format.h>

#include "compositor/guest_identity.hpp"
#include "compositor/identity_banner.hpp"
#include "compositor/latency_stats.hpp"
#include "compositor/output.hpp"
#include "compositor/seat.hpp"
#include "config/log.hpp"

namespace phyllome::compositor {

namespace {
// Windows are the host's, not a guest's: one quiet colour for all of them.
constexpr std::uint32_t window_colour = 0x8a94a6;
// How long after a launch from the overlay the application's window comes forward by itself.
constexpr double expect_window_ms = 30'000;
} // namespace

GuestStage::GuestStage(const StageParts& parts, StageHost& host) : parts_(parts), host_(host) {
    displays_ = std::make_unique<guestview::GuestDisplays>(parts_.loop, *parts_.inventory, events());
    if (parts_.windows)
        parts_.windows->set_events({[this](XdgView& v) { window_opened(v); },
                                    [this](XdgView&, bool was_front) { window_closed(was_front); },
                                    [this] { host_.overlay_changed(); }});
}

GuestStage::~GuestStage() {
    if (parts_.windows)
        parts_.windows->set_events({});
    shown_input_.reset();
    views_.clear();
    displays_.reset();
}

guestview::GuestDisplays::Events GuestStage::events() {
    guestview::GuestDisplays::Events events;
    events.attached = [this](const std::string& g) { attached(g); };
    events.detached = [this](const std::string& g, const std::string& reason) { detached(g, reason); };
    events.console_changed = [this](const std::string& g, const guestview::ConsoleInfo& c) {
        if (GuestView* v = find(g)) {
            v->set_absolute(c.id, c.mouse_is_absolute);
            if (g == shown_) {
                parts_.seat->update_cursor_image();
                parts_.seat->guest_leds_changed(c.keyboard_modifiers);
            }
        }
    };
    events.frame = [this](const std::string& g, std::uint32_t console, const guestview::FrameEvent& ev) {
        if (GuestView* v = find(g))
            v->on_frame(console, ev);
        host_.guest_frame(g, ev.new_buffer);
    };
    events.display_off = [this](const std::string& g, std::uint32_t console) {
        if (GuestView* v = find(g))
            v->on_display_off(console);
    };
    events.cursor = [this](const std::string& g, std::uint32_t console, const guestview::CursorShape& c) {
        if (GuestView* v = find(g))
            v->on_cursor(console, c);
    };
    events.pointer = [this](const std::string& g, std::uint32_t console, const guestview::PointerPosition& p) {
        if (GuestView* v = find(g))
            v->on_guest_pointer(console, p);
    };
    return events;
}

GuestView* GuestStage::find(const std::string& guest) const {
    auto it = views_.find(guest);
    return it == views_.end() ? nullptr : it->second.get();
}

GuestView* GuestStage::shown_view() const { return find(shown_); }

const GuestView* GuestStage::view(const std::string& guest) const { return find(guest); }

std::string GuestStage::head_problem(const std::string& guest, std::uint32_t head) const {
    const GuestView* v = find(guest);
    if (!v)
        return fmt::format("{}'s display is not connected", guest);
    const auto console = v->console_of_head(head);
    if (!console) {
        const std::size_t heads = displays_->graphic_consoles(guest).size();
        if (heads <= 1)
            return heads == 0 ? fmt::format("{} has no graphic head", guest)
                              : fmt::format("{} has one head, head 0", guest);
        return fmt::format("{} has no head {} (its heads are 0 to {})", guest, head, heads - 1);
    }
    if (!v->output_of(*console))
        return fmt::format("{}'s head {} is not on any output: the shell has {} output{}", guest, head,
                           parts_.outputs->size(), parts_.outputs->size() == 1 ? "" : "s");
    return {};
}

std::vector<std::string> GuestStage::switchable() const {
    std::vector<std::string> names;
    for (const auto& n : number_guests(parts_.inventory->guests()))
        if (views_.count(n.name))
            names.push_back(n.name);
    for (const auto& [name, view] : views_)
        if (std::find(names.begin(), names.end(), name) == names.end())
            names.push_back(name);
    return names;
}

std::string GuestStage::guest_by_number(int number) const {
    for (const auto& n : number_guests(parts_.inventory->guests()))
        if (n.number == number)
            return n.name;
    return {};
}

int GuestStage::number_of(const std::string& guest) const {
    for (const auto& n : number_guests(parts_.inventory->guests()))
        if (n.name == guest)
            return n.number;
    return 0;
}

void GuestStage::attached(const std::string& guest) {
    GuestView& v = *(views_[guest] = parts_.make_view(guest));
    v.layout(*parts_.outputs, displays_->graphic_consoles(guest));
    if (auto* conn = displays_->connection(guest))
        for (std::uint32_t id : displays_->graphic_consoles(guest))
            if (const auto* c = conn->console(id))
                v.set_absolute(id, c->mouse_is_absolute);
    log::info("guest {}: display attached", guest);
    host_.guest_attached(guest);
    // A guest that starts while nothing is shown comes to the front, unless the user chose the
    // overlay. A kiosk shows its one guest, and only once it has drawn something.
    std::string locked_to;
    if (!host_.kiosk(locked_to) && shown_.empty() && !overlay_by_choice_ && !shown_window()) {
        std::string error;
        show(guest, error);
    }
    host_.overlay_changed();
}

void GuestStage::detached(const std::string& guest, const std::string& reason) {
    const bool was_shown = shown_ == guest;
    if (was_shown) {
        parts_.seat->stop_key_repeat();
        shown_input_.reset();
        shown_.clear();
        host_.shown_guest_changed(shown_);
    }
    host_.guest_detached(guest);
    views_.erase(guest);
    log::info("guest {}: display detached: {}", guest, reason);
    if (!was_shown) {
        host_.overlay_changed();
        host_.memory_may_be_free();
        return;
    }
    // Say what happened in the user's words when libvirt already knows ("win11 crashed: …").
    std::string what = fmt::format("{}: {}", guest, reason);
    if (const auto* g = parts_.inventory->find(guest)) {
        if (g->state == guestview::GuestState::Crashed)
            what = fmt::format("{} crashed: {}", guest, g->state_reason.empty() ? reason : g->state_reason);
        else if (g->state == guestview::GuestState::ShutOff)
            what = g->state_reason.find("shutdown") != std::string::npos
                       ? fmt::format("{} shut down", guest)
                       : fmt::format("{} stopped ({})", guest, g->state_reason.empty() ? reason : g->state_reason);
    }
    host_.notice(what, true);
    // Show the next guest that still has a screen, else the overlay with what happened.
    std::string locked_to;
    const auto names = switchable();
    if (!names.empty() && !host_.kiosk(locked_to)) {
        std::string error;
        show(names.front(), error);
    } else {
        show_overlay(false);
    }
}

// The shown guest leaves the front: it lets go of every key and button it holds.
void GuestStage::leave_shown() {
    parts_.seat->stop_key_repeat();
    if (shown_input_)
        shown_input_->release_all();
    if (GuestView* old = shown_view())
        old->set_visible(false);
    shown_input_.reset();
    shown_.clear();
    host_.shown_guest_changed(shown_);
}

bool GuestStage::show(const std::string& name, std::string& error) {
    if (std::string locked_to; host_.kiosk(locked_to) && !locked_to.empty() && name != locked_to) {
        error = fmt::format("this is a kiosk for {}", locked_to);
        return false;
    }
    GuestView* view = find(name);
    if (!view) {
        const auto* g = parts_.inventory->find(name);
        error = !g ? fmt::format("no guest named '{}'", name)
                : g->state != guestview::GuestState::Running ? fmt::format("{} is not running", name)
                : g->graphics != guestview::GraphicsSupport::DbusP2P ? g->graphics_note
                : fmt::format("{}'s display is not connected yet", name);
        if (auto st = displays_->status(name); !st.error.empty())
            error += ": " + st.error;
        return false;
    }
    hide_windows();
    if (shown_ != name) {
        if (!shown_.empty())
            leave_shown();
        shown_ = name;
        shown_input_.emplace(*displays_, *view);
        switch_started_ms_ = monotonic_ms();
        view->set_visible(true);
        parts_.seat->guest_shown(*shown_input_);
        send_ui_info(name);
        const auto* info = parts_.inventory->find(name);
        parts_.banner->show(name, number_of(name), info ? guest_colour(*info) : colour_from_name(name));
        log::info("showing guest {}", name);
        host_.shown_guest_changed(name);
    }
    overlay_by_choice_ = false;
    host_.overlay_shown(false);
    view->on_host_pointer(parts_.seat->x(), parts_.seat->y());
    parts_.seat->update_cursor_image();
    host_.present_now();
    host_.memory_may_be_free();
    return true;
}

void GuestStage::show_overlay(bool by_choice) {
    hide_windows();
    if (!shown_.empty())
        leave_shown();
    overlay_by_choice_ = by_choice;
    parts_.banner->hide();
    host_.overlay_shown(true);
    parts_.seat->update_cursor_image();
    host_.present_now();
    host_.memory_may_be_free();
}

std::string GuestStage::show_adjacent(int direction) {
    // Guests in numbering order, then windows in the order they opened.
    struct Front {
        std::string guest;
        XdgView* window = nullptr;
    };
    std::vector<Front> fronts;
    for (auto& name : switchable())
        fronts.push_back({std::move(name), nullptr});
    std::string locked_to;
    const bool locked = host_.kiosk(locked_to) && !locked_to.empty();
    if (parts_.windows && !locked)
        for (XdgView* w : parts_.windows->mapped())
            fronts.push_back({{}, w});
    if (fronts.empty())
        return {};
    XdgView* front_window = shown_window();
    auto it = std::find_if(fronts.begin(), fronts.end(), [&](const Front& f) {
        return front_window ? f.window == front_window : (!shown_.empty() && f.guest == shown_);
    });
    std::size_t index = 0;
    if (it != fronts.end())
        index = (static_cast<std::size_t>(it - fronts.begin()) + fronts.size() + direction) % fronts.size();
    else if (direction < 0)
        index = fronts.size() - 1;
    std::string error;
    if (fronts[index].window)
        show_window(fronts[index].window->id(), error);
    else
        show(fronts[index].guest, error);
    return shown_;
}

int GuestStage::window_number(const XdgView& view) const {
    if (!parts_.windows)
        return 0;
    int base = 0;
    for (const auto& n : number_guests(parts_.inventory->guests()))
        base = std::max(base, n.number);
    const auto windows = parts_.windows->mapped();
    for (std::size_t i = 0; i < windows.size(); ++i)
        if (windows[i] == &view) {
            const int number = base + 1 + static_cast<int>(i);
            return number <= 9 ? number : 0;
        }
    return 0;
}

bool GuestStage::show_number(int number, std::string& error) {
    if (const std::string name = guest_by_number(number); !name.empty()) {
        if (show(name, error))
            return true;
        error = fmt::format("Cannot show {}: {}", name, error);
        return false;
    }
    if (parts_.windows)
        for (XdgView* w : parts_.windows->mapped())
            if (window_number(*w) == number)
                return show_window(w->id(), error);
    error = fmt::format("No guest has number {}", number);
    return false;
}

bool GuestStage::show_window(std::uint64_t id, std::string& error) {
    if (std::string locked_to; host_.kiosk(locked_to) && !locked_to.empty()) {
        error = fmt::format("this is a kiosk for {}", locked_to);
        return false;
    }
    XdgView* view = parts_.windows ? parts_.windows->find(id) : nullptr;
    if (!view || !view->mapped()) {
        error = "that window is closed";
        return false;
    }
    if (!shown_window()) // from a guest or the overlay: closing the window returns there
        return_to_guest_ = shown_;
    if (!shown_.empty())
        leave_shown();
    expect_window_until_ms_.reset();
    parts_.windows->show(*view);
    parts_.banner->show(view->label(), window_number(*view), window_colour);
    host_.overlay_shown(false);
    parts_.seat->update_cursor_image();
    host_.present_now();
    log::info("showing window {} ({})", view->id(), view->label());
    return true;
}

void GuestStage::expect_window() { expect_window_until_ms_ = monotonic_ms() + expect_window_ms; }

void GuestStage::window_opened(XdgView& view) {
    std::string locked_to;
    if (host_.kiosk(locked_to) && !locked_to.empty())
        return; // a locked kiosk shows its guest only
    const bool expected = expect_window_until_ms_ && monotonic_ms() < *expect_window_until_ms_;
    if (expected && shown_.empty() && !shown_window()) {
        std::string error;
        show_window(view.id(), error);
    } else if (const int n = window_number(view); n > 0) {
        host_.notice(fmt::format("{} opened a window: Host+{} shows it", view.label(), n), false);
    } else {
        host_.notice(fmt::format("{} opened a window: Host+→ or the overlay's list shows it", view.label()), false);
    }
    host_.overlay_changed();
}

void GuestStage::window_closed(bool was_front) {
    if (was_front) {
        std::string error;
        if (return_to_guest_.empty() || !show(return_to_guest_, error))
            show_overlay(false);
    }
    host_.overlay_changed();
}

void GuestStage::hide_windows() {
    if (parts_.windows)
        parts_.windows->hide();
}

void GuestStage::send_ui_info(const std::string& name) {
    auto* conn = displays_->connection(name);
    GuestView* view = find(name);
    if (!conn || !view || !view->shows_anything())
        return; // with no output at all the guest keeps its screens as they were
    for (std::uint32_t id : displays_->graphic_consoles(name)) {
        const Output* o = view->output_of(id);
        if (!o || o->wlr()->width <= 0) {
            // A head no output shows is off: virtio-gpu disables a head asked for 0x0.
            conn->set_ui_info(id, 0, 0, 0, 0);
            continue;
        }
        // The size the guest is shown at: a screen turned on its side is taller than wide.
        int width = 0, height = 0;
        wlr_output_transformed_resolution(o->wlr(), &width, &height);
        int width_mm = o->wlr()->phys_width, height_mm = o->wlr()->phys_height;
        if (o->wlr()->transform % 2 == 1) // 90 and 270, flipped or not
            std::swap(width_mm, height_mm);
        conn->set_ui_info(id, static_cast<std::uint16_t>(std::max(0, width_mm)),
                          static_cast<std::uint16_t>(std::max(0, height_mm)), static_cast<std::uint32_t>(width),
                          static_cast<std::uint32_t>(height));
    }
}

void GuestStage::relayout() {
    for (auto& [name, view] : views_)
        view->layout(*parts_.outputs, displays_->graphic_consoles(name));
    if (!shown_.empty())
        send_ui_info(shown_);
}

void GuestStage::forget_output(const Output& output) {
    for (auto& [name, view] : views_)
        view->forget_output(output);
}

void GuestStage::output_presented(const Output& output) {
    GuestView* v = shown_view();
    if (!v)
        return;
    v->on_output_commit(output);
    // Hotkey to the first commit that carries the new guest's picture.
    if (switch_started_ms_ && v->has_frame()) {
        last_switch_ms_ = monotonic_ms() - *switch_started_ms_;
        switch_started_ms_.reset();
        log::debug("switched to {} in {:.2f} ms", shown_, *last_switch_ms_);
    }
}

void GuestStage::collect_frames(std::vector<const guestview::Frame*>& frames) const {
    for (const auto& [name, view] : views_)
        view->collect_frames(frames);
    for (const auto& guest : displays_->guests_with_display())
        if (const auto* conn = displays_->connection(guest))
            conn->collect_frames(frames);
}

} // namespace phyllome::compositor
