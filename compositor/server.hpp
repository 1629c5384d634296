// The composition root: it makes the parts (WlrCore, Seat, HostWindows, GuestStage, outputs,
// the libvirt agent's inventory, the control socket, HostReadiness, the kiosk policy) and wires
// them through the narrow interfaces they take, which it implements: what happens between
// parts (a guest shown means the overlay goes, a kiosk guest's first frame shows it) is here.
#pragma once

#include <chrono>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "compositor/overlay_thumbnails.hpp"
#include "compositor/commands/commands.hpp"
#include "compositor/control_server.hpp"
#include "compositor/guest_sound.hpp"
#include "compositor/mic_indicator.hpp"
#include "compositor/guest_stage.hpp"
#include "compositor/host_readiness.hpp"
#include "compositor/host_windows.hpp"
#include "compositor/identity_banner.hpp"
#include "compositor/idle.hpp"
#include "compositor/locker_process.hpp"
#include "compositor/listener.hpp"
#include "compositor/output.hpp"
#include "compositor/output_management.hpp"
#include "compositor/output_power.hpp"
#include "compositor/overlay_model.hpp"
#include "compositor/protocol_policy.hpp"
#include "compositor/seat.hpp"
#include "compositor/session_lock.hpp"
#include "compositor/shell_clipboard.hpp"
#include "compositor/startup_warmup.hpp"
#include "compositor/status.hpp"
#include "compositor/usb_devices.hpp"
#include "compositor/wlr.hpp"
#include "compositor/wlr_core.hpp"
#include "config/config.hpp"
#include "guestview/event_source.hpp"
#include "guestview/domain_model.hpp"
#include "guestview/agent_inventory.hpp"
#include "guestview/guest_inventory.hpp"
#include "session/kiosk_policy.hpp"

namespace phyllome::compositor {

struct ManualDisplay {
    std::string name;
    std::string address; // D-Bus p2p address, e.g. unix:path=/run/qemu/win.sock
};

struct ServerOptions {
    config::LoadResult config;
    std::string config_path; // --config, read again on SIGHUP; empty: the usual search
    std::string libvirt_uri;
    std::vector<ManualDisplay> displays;
    std::string kiosk_guest; // --kiosk NAME; empty: the config's kiosk.guest
    std::optional<double> process_start_ms; // CLOCK_MONOTONIC of process start, for start-up timing
    std::unique_ptr<StartupWarmup> warmup;  // started by main(); null: everything is done inline
    std::string scheduling = "normal";      // what ask_compositor_priority() obtained
};

class Server : private commands::CommandTarget, private InputTarget, private StageHost, private OutputHost,
               private SessionLockHost, private UsbDevices::Host {
public:
    explicit Server(ServerOptions options); // throws std::runtime_error naming the failed step
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    int run();
    void terminate();
    // SIGHUP: read the config again; a broken file keeps the running config.
    void reload_config();

    // Shared state for the per-object classes.
    wl_display* display() const { return core_.display(); }
    wl_event_loop* loop() const { return core_.loop(); }
    wlr_seat* seat() const { return seat_->wlr(); }
    wlr_backend* backend() const { return core_.backend(); }
    wlr_renderer* renderer() const { return core_.renderer(); }
    wlr_allocator* allocator() const { return core_.allocator(); }
    wlr_output_layout* output_layout() const { return core_.output_layout(); }
    wlr_scene* scene() const { return core_.scene(); }
    wlr_scene_tree* guest_layer() const { return core_.guest_layer(); }
    wlr_scene_tree* overlay_layer() const { return core_.overlay_layer(); }
    wlr_scene_tree* osd_layer() const { return core_.osd_layer(); }
    const std::list<std::unique_ptr<Output>>& outputs() const { return outputs_; }
    wlr_scene_tree* view_layer() const { return core_.view_layer(); }
    const config::Config& config() const { return config_.config; }

    // Called by the objects it owns.
    void run_overlay_command(const OverlayCommand& command);
    // Redraws the overlay on every output if the model changed (or `force`).
    void refresh_overlay(bool force = false);
    XdgView* front_window() const { return windows_ ? windows_->front() : nullptr; }

    StatusSnapshot status() const override;

    // Guests on screen.
    bool show_guest(const std::string& name, std::string& error) override { return stage_->show(name, error); }
    std::string head_problem(const std::string& guest, std::uint32_t head) const override {
        return stage_->head_problem(guest, head);
    }
    int exit_code() const { return exit_code_; }
    void show_overlay(bool by_choice) { stage_->show_overlay(by_choice); }
    void present_now() override; // on every output, see Output::present_now
    // The guest shown after it, or empty.
    std::string show_adjacent_guest(int direction) override { return stage_->show_adjacent(direction); }

private:
    // commands::CommandTarget: what phyllomectl's verbs may do.
    guestview::GuestInventory& inventory() override { return *inventory_; }
    void show_overlay() override { show_overlay(true); }
    guestview::GuestSpec new_guest_spec(std::string name) const override;
    void reply_when_done(guestview::Action action, std::string guest, commands::Reply reply) override;
    std::string add_output(int width, int height, std::string& error) override;
    bool remove_output(const std::string& name, std::string& error) override;
    void quit() override { terminate(); }
    void lock_session(commands::Reply reply) override;
    UsbDevices& usb_devices() override { return *usb_; }

    // InputTarget: where the seat sends input.
    wlr_surface* host_window() const override { return front_window() ? front_window()->surface() : nullptr; }
    GuestInput* shown_guest_input() override { return stage_ ? stage_->shown_input() : nullptr; }
    bool host_binding(xkb_keysym_t sym) override;
    void overlay_key(xkb_keysym_t sym, std::uint32_t modifiers) override;
    void overlay_click(double lx, double ly) override;
    bool vt_switch_allowed() const override { return !kiosk_locked(); }
    LockedInput* session_lock() override;
    void input_activity() override;

    // StageHost: what the guest stage asks of the rest of the shell.
    void overlay_shown(bool shown) override;
    void overlay_changed() override { refresh_overlay(true); }
    void notice(std::string text, bool error) override;
    bool kiosk(std::string& locked_to) const override;
    void guest_frame(const std::string& guest, bool new_buffer) override;
    void memory_may_be_free() override { schedule_memory_release(); }
    void guest_attached(const std::string& guest) override;
    void guest_detached(const std::string& guest) override { sound_->detached(guest); }
    void shown_guest_changed(const std::string& guest) override { sound_->shown(guest); }
    void sound_changed(); // the sound server, a guest's sound or the microphone changed
    bool microphone_binding(xkb_keysym_t sym);

    // OutputHost: what outputs tell the shell.
    void output_destroyed(Output& output) override;
    void output_mode_changed(Output&) override;
    void output_presented(Output& output, bool first) override;

    // SessionLockHost and the locker (server_lock.cpp).
    void lock_engaged(bool engaged) override;
    void lock_confirmed() override;
    void locker_lost() override;
    void setup_lock();
    void teardown_lock();
    void apply_idle_timeout();
    bool lock_binding(xkb_keysym_t sym); // the lock key, the one binding while locked
    void start_locker(const char* why);
    void locker_ended(int status, std::string how);
    void lock_failed(const std::string& why);
    std::string relock_hint() const;
    void fill_lock_status(StatusSnapshot& s) const;

    void on_new_output(wlr_output* output);
    void on_inventory_changed();
    void on_action_done(const guestview::ActionResult& result);
    // Long jobs (server_jobs.cpp): the overlay's progress, and a notice when one ends.
    void on_jobs_changed();
    void start_job_from_overlay(guestview::JobKind kind, const std::string& guest);
    void run_job_from_overlay(guestview::JobRequest request);
    void open_guest_card(const std::string& guest);
    std::map<std::uint32_t, guestview::JobState> job_states_; // what was last seen of each job
    void on_control_request(const control::Request& request, ControlServer::Reply reply);
    void launch_app(std::size_t index);
    void setup_control_socket();
    void setup_signals();
    void disconnect_listeners();
    std::string hotkey_help() const;
    std::string host_key_label() const;
    // Pixel buffers held in memory (guest frames, output pictures), for the status's memory split.
    std::size_t frame_buffer_bytes() const;
    void kiosk_act(session::KioskPolicy::Decision decision);
    void kiosk_update();
    bool kiosk_locked() const { return kiosk_ && !kiosk_admin_; }
    void fill_display_status(GuestStatus& status) const;
    // Host+C and Host+V (server_clipboard.cpp).
    void clipboard_copy();
    void clipboard_paste();
    // The notice `text`, and the banner (`banner`, else `text`) while `guest` is shown.
    void clipboard_confirm(const std::string& guest, std::string text, bool error, const std::string& banner = "");
    void fill_clipboard_status(StatusSnapshot& s) const;
    // The host's USB devices (server_usb.cpp): Host+U, and UsbDevices::Host.
    void setup_usb();
    bool usb_binding(xkb_keysym_t sym);
    std::string usb_chord_label() const; // "Super+U", empty when unbound
    std::string usb_shown_guest() const override;
    void usb_notice(const std::string& guest, const std::string& text, bool error,
                    const std::string& banner = {}) override;
    void usb_changed() override;
    void usb_from_overlay(const std::string& guest, const std::string& device);
    void usb_remember_from_overlay(const std::string& guest, const std::string& device, const std::string& what);
    static constexpr int usb_notice_ms = 5000; // an offer stays long enough to read and act on

    WlrCore core_; // first: every other member hangs off it, so it goes last
    config::LoadResult config_;
    ProtocolPolicy protocol_policy_{core_.display(), config_.config}; // before any client can bind
    std::string explicit_config_path_;
    std::optional<double> process_start_ms_;
    std::string scheduling_;
    std::optional<double> first_frame_ms_;
    std::optional<double> first_frame_at_ms_; // CLOCK_MONOTONIC

    std::unique_ptr<StartupWarmup> warmup_;
    std::vector<guestview::EventSourcePtr> signal_sources_;

    std::list<std::unique_ptr<Output>> outputs_;
    std::unique_ptr<OutputManagement> output_management_; // wlr-randr, kanshi
    std::unique_ptr<OutputPower> output_power_;           // DPMS
    // A layout tool's configuration is on screen: everything is laid out again, as on a reload.
    void outputs_reconfigured();
    struct PendingReply {
        guestview::Action action;
        std::string guest;
        ControlServer::Reply reply;
    };
    std::list<PendingReply> pending_replies_;

    OverlayModel overlay_model_;
    std::unique_ptr<guestview::AgentInventory> inventory_; // libvirt, in its agent process
    std::unique_ptr<ControlServer> control_;
    std::unique_ptr<Seat> seat_;
    std::unique_ptr<HostWindows> windows_; // host applications' windows
    std::unique_ptr<IdentityBanner> banner_;
    std::unique_ptr<GuestSound> sound_; // the guests' sound (PipeWire); made before the stage
    std::unique_ptr<MicIndicator> mic_indicator_;
    std::unique_ptr<ShellClipboard> clipboard_; // the shell's clipboard, the seat's selection
    std::shared_ptr<bool> clipboard_alive_ = std::make_shared<bool>(true); // for replies after we are gone
    std::unique_ptr<GuestStage> stage_; // guests' displays and views, and which one is shown
    std::unique_ptr<UsbDevices> usb_;   // the host's USB devices: who has which
    std::unique_ptr<OverlayThumbnails> thumbnails_; // the running guests' screens on the overlay
    std::unique_ptr<session::KioskPolicy> kiosk_;
    bool kiosk_admin_ = false;            // the admin key opened the real overlay in kiosk mode
    guestview::EventSourcePtr kiosk_timer_; // restart delay and countdown repaint
    // Fires once, a second after the last change of what is shown or of a guest's buffer, to
    // hand freed frame-sized memory back (see release_free_memory); never while idle.
    guestview::EventSourcePtr memory_release_timer_;
    void schedule_memory_release();
    int exit_code_ = 0;
    std::unique_ptr<HostReadiness> host_readiness_; // shown on the overlay's status line
    std::unique_ptr<SessionLock> lock_;     // ext-session-lock-v1 and the blank
    std::unique_ptr<IdleWatch> idle_;       // ext-idle-notify-v1 and the idle lock
    std::unique_ptr<LockerProcess> locker_; // `[lock] command` while it starts
    std::vector<commands::Reply> lock_replies_; // phyllomectl lock, answered when locked or failed
    guestview::EventSourcePtr locker_timer_;     // a locker that never locks fails after a while

    Listener<wlr_output> new_output_;
    Listener<void> layout_change_;
};

} // namespace phyllome::compositor
