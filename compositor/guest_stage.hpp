// The guest stage: the guests' displays (GuestDisplays), a GuestView for every guest whose
// display is attached (its heads on the outputs), and what is at the front: one guest, one host
// application's window (HostWindows), or else the overlay. Hidden guests stay connected and keep
// their frames, so a switch only flips visibility. Guests and windows are switched to the same
// way (Host+number, Host+←/→); what the overlay means for the rest of the shell is the
// StageHost's business.
#pragma once

#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "compositor/guest_input.hpp"
#include "compositor/host_windows.hpp"
#include "compositor/guest_view.hpp"
#include "guestview/guest_displays.hpp"
#include "guestview/guest_inventory.hpp"

namespace phyllome::compositor {

class IdentityBanner;
class Output;
class Seat;

class StageHost {
public:
    virtual ~StageHost() = default;
    // The overlay comes to the front (true) or gives way to a guest (false).
    virtual void overlay_shown(bool shown) = 0;
    // What the overlay lists changed (a display came or went).
    virtual void overlay_changed() = 0;
    virtual void notice(std::string text, bool error) = 0;
    // Kiosk mode: guests never come to the front by themselves; `locked_to` is the one guest a
    // locked kiosk may show (empty: any).
    virtual bool kiosk(std::string& locked_to) const = 0;
    // A guest drew a frame; `new_buffer`: its previous buffer may have been freed.
    virtual void guest_frame(const std::string& guest, bool new_buffer) = 0;
    virtual void present_now() = 0;
    virtual void memory_may_be_free() = 0;
    // A guest's display came or went (its connection is displays().connection(guest) meanwhile).
    virtual void guest_attached(const std::string&) {}
    virtual void guest_detached(const std::string&) {}
    // The guest at the front changed; empty: none.
    virtual void shown_guest_changed(const std::string&) {}
};

struct StageParts {
    wl_event_loop* loop = nullptr;
    guestview::GuestInventory* inventory = nullptr;
    Seat* seat = nullptr;
    IdentityBanner* banner = nullptr;
    HostWindows* windows = nullptr; // host applications' windows; null: none
    const std::list<std::unique_ptr<Output>>* outputs = nullptr;
    // GuestViews are scene objects: the stage asks for them rather than knowing the scene.
    std::function<std::unique_ptr<GuestView>(const std::string& guest)> make_view;
};

class GuestStage {
public:
    GuestStage(const StageParts& parts, StageHost& host);
    ~GuestStage();
    GuestStage(const GuestStage&) = delete;
    GuestStage& operator=(const GuestStage&) = delete;

    guestview::GuestDisplays& displays() { return *displays_; }
    const guestview::GuestDisplays& displays() const { return *displays_; }

    // Brings `name` to the front; false with `error` in the user's words.
    bool show(const std::string& name, std::string& error);
    // The overlay instead; `by_choice`: the user asked, so no guest comes forward by itself.
    void show_overlay(bool by_choice);
    // The next (+1) or previous (-1) guest or window in numbering order (guests first); the
    // guest shown after it, or empty (a window or nothing).
    std::string show_adjacent(int direction);
    // A host application's window to the front; false with `error` (a locked kiosk, no such window).
    bool show_window(std::uint64_t id, std::string& error);
    // The guest or window with this Host+number; false with `error` in the user's words.
    bool show_number(int number, std::string& error);
    // The user launched an application: its first window comes to the front by itself if it opens
    // within a while and the user is still on the overlay. Other windows wait to be switched to.
    void expect_window();
    // The shown guest's name; empty while a window or the overlay is at the front.
    const std::string& shown() const { return shown_; }
    XdgView* shown_window() const { return parts_.windows ? parts_.windows->front() : nullptr; }
    // Host+number of a window (after the guests' numbers), 0 when it has none (past 9).
    int window_number(const XdgView& view) const;
    GuestView* shown_view() const;
    GuestInput* shown_input() { return shown_input_ ? &*shown_input_ : nullptr; }
    const GuestView* view(const std::string& guest) const;
    // Why `guest`'s head `head` is not on an output (no display, no such head, fewer outputs), or empty.
    std::string head_problem(const std::string& guest, std::uint32_t head) const;

    // Guests in numbering order (slots from their metadata, then names), then manual displays.
    std::string guest_by_number(int number) const;
    int number_of(const std::string& guest) const;

    // Outputs changed: every guest's heads are placed again.
    void relayout();
    void forget_output(const Output& output);
    // `output` committed: frames it carries are presented, and a switch ends there.
    void output_presented(const Output& output);
    std::optional<double> last_switch_ms() const { return last_switch_ms_; }
    // Frames held by the views and the displays, for memory accounting.
    void collect_frames(std::vector<const guestview::Frame*>& frames) const;

private:
    guestview::GuestDisplays::Events events();
    GuestView* find(const std::string& guest) const;
    void attached(const std::string& guest);
    void detached(const std::string& guest, const std::string& reason);
    std::vector<std::string> switchable() const;
    void leave_shown();
    void window_opened(XdgView& view);
    void window_closed(bool was_front);
    void hide_windows();
    void send_ui_info(const std::string& name);

    StageParts parts_;
    StageHost& host_;
    std::map<std::string, std::unique_ptr<GuestView>> views_;
    std::string shown_; // empty: the overlay
    std::optional<GuestInput> shown_input_;
    bool overlay_by_choice_ = false; // the user asked for the overlay: don't switch away by ourselves
    // What closing the window at the front returns to: this guest, or the overlay when empty.
    std::string return_to_guest_;
    std::optional<double> expect_window_until_ms_; // see expect_window()
    std::optional<double> switch_started_ms_;
    std::optional<double> last_switch_ms_;
    std::unique_ptr<guestview::GuestDisplays> displays_; // last: its events reach the members above
};

} // namespace phyllome::compositor
