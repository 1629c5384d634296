// The guest stage: the guests' displays (GuestDisplays), a GuestView for every guest whose
// display is attached (its heads on the outputs), and which one is shown. Hidden guests stay
// connected and keep their frames, so a switch only flips visibility. When none is shown the
// overlay is; what that means for the rest of the shell is the StageHost's business.
#pragma once

#include <functional>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "compositor/guest_input.hpp"
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
    virtual bool host_window_focused() const = 0;
    // Kiosk mode: guests never come to the front by themselves; `locked_to` is the one guest a
    // locked kiosk may show (empty: any).
    virtual bool kiosk(std::string& locked_to) const = 0;
    // A guest drew a frame; `new_buffer`: its previous buffer may have been freed.
    virtual void guest_frame(const std::string& guest, bool new_buffer) = 0;
    virtual void present_now() = 0;
    virtual void memory_may_be_free() = 0;
};

struct StageParts {
    wl_event_loop* loop = nullptr;
    guestview::GuestInventory* inventory = nullptr;
    Seat* seat = nullptr;
    IdentityBanner* banner = nullptr;
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
    // The next (+1) or previous (-1) guest in numbering order; the one shown after it, or empty.
    std::string show_adjacent(int direction);
    const std::string& shown() const { return shown_; }
    GuestView* shown_view() const;
    GuestInput* shown_input() { return shown_input_ ? &*shown_input_ : nullptr; }
    const GuestView* view(const std::string& guest) const;

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
    void send_ui_info(const std::string& name);

    StageParts parts_;
    StageHost& host_;
    std::map<std::string, std::unique_ptr<GuestView>> views_;
    std::string shown_; // empty: the overlay
    std::optional<GuestInput> shown_input_;
    bool overlay_by_choice_ = false; // the user asked for the overlay: don't switch away by ourselves
    std::optional<double> switch_started_ms_;
    std::optional<double> last_switch_ms_;
    std::unique_ptr<guestview::GuestDisplays> displays_; // last: its events reach the members above
};

} // namespace phyllome::compositor
