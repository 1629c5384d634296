// What the management overlay shows and what its keys and clicks do. Pure logic: no wlroots,
// no drawing, so selection and actions are unit-tested directly.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "compositor/guest_card.hpp"
#include "compositor/new_guest_card.hpp"
#include "compositor/usb_status.hpp"
#include "config/config.hpp"
#include "guestview/guest_inventory.hpp"

namespace phyllome::compositor {

struct OverlayRect {
    int x = 0, y = 0, width = 0, height = 0;
    bool contains(double px, double py) const {
        return px >= x && py >= y && px < x + width && py < y + height;
    }
};

// A command the overlay asks the server to carry out.
struct OverlayCommand {
    // PlanGuest: an installer was picked, ask the agent what it would make (the card opens);
    // CreateGuest: the card's Enter, create what it shows.
    // StartJob: `job` on the guest `target` (the server fills in the rest); RunJob: `request` as
    // it is (from the guest card); CancelJob: the job numbered `target`; GuestCard: open the
    // card of the guest `target` (the server knows its backups and the other hosts).
    // Usb: give `device` to the guest `target`, or take it back if that guest has it; an empty
    // `device` is the one Host+U would act on.
    // UsbRemember: the guest `target` remembers `device` as request.target says ("always",
    // "never", "forget"), from the guest card.
    enum class Kind { GuestAction, ShowGuest, LaunchApp, Adopt, PlanGuest, CreateGuest, ShowWindow, StartJob, RunJob,
                      CancelJob, GuestCard, Usb, UsbRemember };
    Kind kind = Kind::GuestAction;
    guestview::Action action = guestview::Action::Start;
    // guest name, app index as text for LaunchApp, installer path for Plan/CreateGuest, window id
    // as text for ShowWindow
    std::string target;
    guestview::JobKind job = guestview::JobKind::Duplicate;
    guestview::JobRequest request;
    std::string device; // Usb: the device's sysname
    bool operator==(const OverlayCommand&) const = default;
};

// Where the painter put clickable things, in overlay-local logical pixels.
struct OverlayHitMap {
    struct Button {
        OverlayRect rect;
        OverlayCommand command;
    };
    std::vector<OverlayRect> rows; // one per guest, same order as OverlayModel::guests()
    std::vector<Button> buttons;
    // Where each running guest's live thumbnail goes (the compositor puts its screen there).
    struct Thumbnail {
        std::string guest;
        OverlayRect rect;
    };
    std::vector<Thumbnail> thumbnails;
    // Each listed job's progress bar (overlay_jobs_painter.hpp).
    struct JobBar {
        std::uint32_t id = 0;
        OverlayRect bar;
    };
    std::vector<JobBar> job_bars;
    // Each USB device's row (overlay_usb_painter.hpp); a click gives it to the selected guest.
    struct UsbRow {
        std::string device; // sysname
        OverlayRect rect;
    };
    std::vector<UsbRow> usb_rows;
};

// A host application's open window, switched to like a guest.
struct WindowEntry {
    std::uint64_t id = 0;
    std::string label;
    int number = 0; // Host+number; 0: none
    bool operator==(const WindowEntry&) const = default;
};

class OverlayModel {
public:
    using Clock = std::chrono::steady_clock;
    enum class Key { Up, Down, Home, End, Enter, Start, Shutdown, ForceOff, Remove, App, Adopt, NewGuest, Cancel, Eject,
                     Left, Right,
                     // Long jobs on the selected guest, and cancelling the newest running job.
                     Duplicate, Snapshot, Backup, CancelJob,
                     // The selected guest's card: snapshots, backups, export, move.
                     GuestCard,
                     // The USB device offered last: to the selected guest, or back from it.
                     Usb };

    void set_guests(std::vector<guestview::GuestInfo> guests);
    void set_connection(guestview::ConnectionStatus status);
    void set_apps(std::vector<config::App> apps);
    void set_windows(std::vector<WindowEntry> windows);
    // A line at the bottom telling the user what happened ("win11 crashed: …").
    void set_notice(std::string text, bool is_error);
    void set_config_problem(std::string text);
    // Long jobs: running ones show a progress bar with a Cancel button, finished ones how they ended.
    void set_jobs(std::vector<guestview::JobInfo> jobs);
    const std::vector<guestview::JobInfo>& jobs() const { return jobs_; }
    // The host's USB devices and who has each, listed under the jobs.
    void set_usb(std::vector<UsbEntry> entries);
    const std::vector<UsbEntry>& usb() const { return usb_; }

    const std::vector<guestview::GuestInfo>& guests() const { return guests_; }
    const guestview::ConnectionStatus& connection() const { return connection_; }
    const std::vector<config::App>& apps() const { return apps_; }
    const std::vector<WindowEntry>& windows() const { return windows_; }
    const std::string& notice() const { return notice_; }
    bool notice_is_error() const { return notice_is_error_; }
    const std::string& config_problem() const { return config_problem_; }
    // Index into guests(), nullopt when the list is empty.
    std::optional<std::size_t> selection() const;
    const guestview::GuestInfo* selected_guest() const;
    // A force off waiting for its confirming second press.
    const std::string& pending_force_off() const { return pending_force_off_; }
    // A removal (the guest with its disks, for good) waiting for its confirming second press.
    const std::string& pending_remove() const { return pending_remove_; }
    // An adoption (switching a SPICE/VNC guest to our display) waiting for its second press.
    const std::string& pending_adopt() const { return pending_adopt_; }

    // Keyboard. `app_index` is used with Key::App. Returns the command to run, if any.
    std::optional<OverlayCommand> on_key(Key key, Clock::time_point now, std::size_t app_index = 0);
    // Pointer, in overlay-local logical pixels; `hits` is what the painter laid out last.
    std::optional<OverlayCommand> on_click(double x, double y, const OverlayHitMap& hits,
                                           Clock::time_point now);
    // "New guest": the installer images found on this host; the overlay lists them instead of
    // the guests until one is chosen (Enter) or the user goes back (Escape).
    void set_installers(std::vector<std::string> paths);
    bool choosing_installer() const { return choosing_installer_; }
    const std::vector<std::string>& installers() const { return installers_; }
    std::size_t installer_selection() const { return installer_selection_; }

    // The new-guest card for a picked installer (after PlanGuest): the server opens it with the
    // guest's name and fills in the agent's plan when it comes (for the same installer only).
    void open_card(std::string installer, std::string name);
    void set_card_plan(const std::string& installer, guestview::PlanView plan);
    void close_card();
    const NewGuestCard* card() const { return card_ ? &*card_ : nullptr; }

    // The guest card (guest_card.hpp), opened by the server after Key::GuestCard; its rows
    // follow the guest's snapshots; it closes with Escape, a job started, or the guest gone.
    void open_guest_card(GuestCard card);
    void close_guest_card();
    const GuestCard* guest_card() const { return guest_card_ ? &*guest_card_ : nullptr; }

    // True when something visible changed since the last call (the view redraws then).
    bool take_dirty();

    // Which actions make sense for a guest in its state.
    static bool can_start(const guestview::GuestInfo&);
    static bool can_shutdown(const guestview::GuestInfo&);
    static bool can_force_off(const guestview::GuestInfo&);
    static bool can_show(const guestview::GuestInfo&);
    static bool can_adopt(const guestview::GuestInfo&);
    static bool can_remove(const guestview::GuestInfo&);
    // Its installer ISO is still attached (the eject button shows); Key::Eject works on any
    // guest, the agent says when there is nothing to eject.
    static bool can_eject(const guestview::GuestInfo&);

    static constexpr std::chrono::seconds force_off_confirm_window{4};

private:
    std::optional<OverlayCommand> action_on_selected(guestview::Action action, Clock::time_point now);
    std::optional<OverlayCommand> adopt_selected(Clock::time_point now);
    std::optional<OverlayCommand> card_key(Key key);
    std::optional<OverlayCommand> job_key(Key key); // overlay_model_jobs.cpp
    std::optional<OverlayCommand> guest_card_key(Key key, Clock::time_point now);
    void select_index(std::size_t index);

    std::vector<guestview::GuestInfo> guests_;
    guestview::ConnectionStatus connection_;
    std::vector<config::App> apps_;
    std::vector<WindowEntry> windows_;
    std::string selected_name_; // selection follows the guest, not the row, across refreshes
    std::string notice_;
    bool notice_is_error_ = false;
    std::string config_problem_;
    std::string pending_force_off_;
    Clock::time_point pending_force_off_since_{};
    std::string pending_remove_;
    Clock::time_point pending_remove_since_{};
    std::string pending_adopt_;
    bool choosing_installer_ = false;
    std::vector<std::string> installers_;
    std::size_t installer_selection_ = 0;
    Clock::time_point pending_adopt_since_{};
    std::optional<NewGuestCard> card_;
    std::vector<guestview::JobInfo> jobs_;
    std::vector<UsbEntry> usb_;
    std::optional<GuestCard> guest_card_;
    bool dirty_ = true;
};

} // namespace phyllome::compositor
