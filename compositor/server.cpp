#include "compositor/server.hpp"

#include <signal.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>

#include <fmt/format.h>

#include "build_config.h"
#include "compositor/app_launcher.hpp"
#include "compositor/guest_identity.hpp"
#include "compositor/headless_outputs.hpp"
#include "compositor/new_guest.hpp"
#include "compositor/output.hpp"
#include "compositor/overlay_painter.hpp"
#include "compositor/process_stats.hpp"
#include "config/log.hpp"
#include "guestview/agent_process.hpp"

namespace phyllome::compositor {
Server::Server(ServerOptions options)
    : config_(std::move(options.config)), explicit_config_path_(std::move(options.config_path)),
      process_start_ms_(options.process_start_ms), scheduling_(std::move(options.scheduling)),
      warmup_(std::move(options.warmup)) {
    setup_signals(); // before any thread of ours exists, so every thread inherits the blocked signals
    host_readiness_ = std::make_unique<HostReadiness>(loop(), [this] { refresh_overlay(true); });
    seat_ = std::make_unique<Seat>(
        SeatParts{display(), backend(), core_.session(), output_layout(), view_layer(), warmup_.get()}, config(),
        static_cast<InputTarget&>(*this));
    windows_ = std::make_unique<HostWindows>(core_.xdg_shell(), view_layer(), *seat_, outputs_);

    new_output_.connect(&backend()->events.new_output, [this](wlr_output* o) { on_new_output(o); });
    output_management_ = std::make_unique<OutputManagement>(display(), outputs_, [this] { outputs_reconfigured(); });
    output_power_ = std::make_unique<OutputPower>(display(), output_layout());
    layout_change_.connect(&output_layout()->events.change, [this](void*) {
        for (auto& o : outputs_)
            o->update_position();
        output_management_->outputs_changed();
        refresh_overlay(true);
        if (stage_)
            stage_->relayout();
        if (banner_) // outputs come and go (hotplug): the banner and edges follow
            banner_->relayout();
        if (mic_indicator_)
            mic_indicator_->relayout();
        if (lock_)
            lock_->relayout();
    });

    clipboard_ = std::make_unique<ShellClipboard>(display(), seat_->wlr());
    banner_ = std::make_unique<IdentityBanner>(SceneLayer{osd_layer(), renderer(), &config()}, loop(), outputs_);
    if (std::string kiosk = options.kiosk_guest.empty() ? config().kiosk.guest : options.kiosk_guest; !kiosk.empty()) {
        const auto& k = config().kiosk;
        kiosk_ = std::make_unique<session::KioskPolicy>(kiosk, k.on_guest_exit, std::chrono::milliseconds(k.restart_delay_ms),
                                                        std::chrono::milliseconds(k.restart_delay_max_ms));
        kiosk_timer_.reset(wl_event_loop_add_timer(loop(), [](void* data) {
            auto* self = static_cast<Server*>(data);
            self->kiosk_act(self->kiosk_->on_timer(session::KioskPolicy::Clock::now()));
            self->kiosk_update();
            return 0;
        }, this));
        log::info("kiosk mode: showing only {} (when it stops: {})", kiosk, config::to_string(k.on_guest_exit));
    }
    setup_lock(); // after the kiosk: its idle timeout is off by default there
    memory_release_timer_.reset(wl_event_loop_add_timer(loop(), [](void*) {
        release_free_memory();
        return 0;
    }, nullptr));

    overlay_model_.set_apps(config().apps);
    if (config_.has_errors()) {
        std::string first;
        for (const auto& d : config_.diagnostics)
            if (d.severity == config::Diagnostic::Severity::Error) {
                first = d.to_string();
                break;
            }
        overlay_model_.set_config_problem(fmt::format("Config problem, running on defaults where it failed: {}", first));
    }

    // The backend's start paints the first overlay: it uses the fonts the warm-up loaded.
    if (warmup_)
        warmup_->use_fonts_on_this_thread();
    core_.start();
    setup_control_socket();

    // One posix_spawn: libvirt loads and connects in the agent while we go on.
    inventory_ = std::make_unique<guestview::AgentInventory>(
        loop(), options.libvirt_uri,
        guestview::GuestInventory::Callbacks{[this] { on_inventory_changed(); },
                                             [this](const guestview::ActionResult& r) { on_action_done(r); },
                                             [this] { on_jobs_changed(); }},
        guestview::agent::libvirt_agent_path(), log::level());
    mic_indicator_ = std::make_unique<MicIndicator>(SceneLayer{osd_layer(), renderer(), &config()}, outputs_);
    sound_ = std::make_unique<GuestSound>(loop(), config(), [this] { sound_changed(); });
    stage_ = std::make_unique<GuestStage>(
        StageParts{loop(), inventory_.get(), seat_.get(), banner_.get(), windows_.get(), &outputs_,
                   [this](const std::string& guest) {
                       return std::make_unique<GuestView>(SceneLayer{guest_layer(), renderer(), &config()}, guest);
                   }},
        static_cast<StageHost&>(*this));
    thumbnails_ = std::make_unique<OverlayThumbnails>(
        loop(), overlay_layer(), renderer(), [this](const std::string& guest) -> OverlayThumbnails::GuestFrame {
            const auto* conn = stage_->displays().connection(guest);
            const auto consoles = stage_->displays().graphic_consoles(guest);
            if (!conn || consoles.empty())
                return {};
            return {conn->current_frame(consoles.front()), conn->stats(consoles.front()).frames_received};
        });
    setup_usb();
    host_readiness_->start(inventory_->status().uri);
    for (const auto& d : options.displays)
        stage_->displays().add_manual(d.name, d.address);
    on_inventory_changed();
}

Server::~Server() {
    // Order matters: libvirt and control clients first, then clients and wlroots objects.
    control_.reset();
    kiosk_timer_.reset();
    memory_release_timer_.reset();
    usb_.reset(); // its notices go to the banner
    banner_.reset();
    thumbnails_.reset(); // reads the stage's frames
    stage_.reset();
    sound_.reset();
    mic_indicator_.reset();
    clipboard_.reset(); // gives up the seat's selection, so before the seat
    inventory_.reset();
    // Our listeners sit in lists owned by the objects destroyed below.
    disconnect_listeners();
    teardown_lock();
    signal_sources_.clear();
    wl_display_destroy_clients(display());
    windows_.reset();
    seat_.reset(); // its keyboards and cursor before the devices and the layout they use
    core_.destroy_backend(); // destroys outputs, which remove themselves
    outputs_.clear();
    warmup_.reset();
}

void Server::disconnect_listeners() {
    new_output_.disconnect();
    layout_change_.disconnect();
}

void Server::setup_signals() {
    auto on_signal = [](int sig, void* data) {
        log::info("received signal {}, shutting down", sig);
        static_cast<Server*>(data)->terminate();
        return 0;
    };
    for (int sig : {SIGTERM, SIGINT})
        signal_sources_.emplace_back(wl_event_loop_add_signal(loop(), sig, on_signal, this));
    signal_sources_.emplace_back(wl_event_loop_add_signal(
        loop(), SIGHUP,
        [](int, void* data) {
            static_cast<Server*>(data)->reload_config();
            return 0;
        },
        this));
    signal(SIGPIPE, SIG_IGN);
}

void Server::reload_config() {
    config::LoadResult fresh = config::load(explicit_config_path_, PHYLLOME_SYSCONFDIR);
    for (const auto& d : fresh.diagnostics)
        log::write(d.severity == config::Diagnostic::Severity::Error ? config::LogLevel::Error
                                                                     : config::LogLevel::Warning,
                   d.to_string());
    if (fresh.has_errors()) {
        // A half-edited file must not take the session's keyboard or outputs away.
        std::string first;
        for (const auto& d : fresh.diagnostics)
            if (d.severity == config::Diagnostic::Severity::Error && first.empty())
                first = d.to_string();
        log::error("config reload: keeping the running config");
        overlay_model_.set_notice(fmt::format("Config not reloaded, the running one stays: {}", first), true);
        refresh_overlay();
        return;
    }
    config_ = std::move(fresh);
    log::set_level(config().log_level);
    seat_->apply_config();
    apply_idle_timeout();
    for (auto& o : outputs_)
        o->apply_config();
    overlay_model_.set_apps(config().apps);
    overlay_model_.set_config_problem("");
    overlay_model_.set_notice(fmt::format("Config reloaded from {}", config_.path.empty() ? "defaults" : config_.path),
                              false);
    refresh_overlay(true);
    stage_->relayout();
    banner_->relayout();
    sound_->apply_config();
    usb_->reconfigure(config().usb, usb_chord_label());
    log::info("config reloaded from {}", config_.path.empty() ? "built-in defaults" : config_.path);
}

void Server::setup_control_socket() {
    const char* rt = std::getenv("XDG_RUNTIME_DIR");
    const char* wd = std::getenv("WAYLAND_DISPLAY");
    if (!rt || !wd)
        return;
    try {
        control_ = std::make_unique<ControlServer>(
            loop(), control::socket_path_for(rt, wd),
            [this](const control::Request& r, ControlServer::Reply reply) { on_control_request(r, std::move(reply)); });
        setenv("PHYLLOME_SOCKET", control_->path().c_str(), 1);
        log::info("control socket {}", control_->path());
    } catch (const std::exception& e) {
        // The desktop still works without phyllomectl; say so and carry on.
        log::error("control socket unavailable: {}", e.what());
    }
}

int Server::run() {
    wl_display_run(display());
    return exit_code_;
}

void Server::terminate() { wl_display_terminate(display()); }

void Server::on_new_output(wlr_output* wlr) {
    try {
        outputs_.push_back(std::make_unique<Output>(core_, config(), static_cast<OutputHost&>(*this), wlr));
    } catch (const std::exception& e) {
        log::error("{}", e.what());
        return;
    }
    refresh_overlay(true);
    if (stage_) // none yet while the backend starts
        stage_->relayout();
    banner_->relayout(); // the layout changed before this output was in outputs_
    windows_->refit();
    lock_->output_added(*outputs_.back()); // while locked, a new output is blank from its first frame
    outputs_.back()->present_now();
    output_management_->outputs_changed();
}

void Server::output_mode_changed(Output&) {
    refresh_overlay(true);
    output_management_->outputs_changed();
}

void Server::outputs_reconfigured() {
    refresh_overlay(true);
    stage_->relayout();
    banner_->relayout();
    windows_->refit();
    present_now();
}

void Server::present_now() {
    for (auto& o : outputs_)
        o->present_now();
}

void Server::output_destroyed(Output& output) {
    if (stage_)
        stage_->forget_output(output);
    if (lock_)
        lock_->output_removed(output);
    outputs_.remove_if([&](const auto& o) { return o.get() == &output; });
    refresh_overlay(true);
    // A host application filled the output that went: it fills the first one left.
    if (windows_)
        windows_->refit();
    if (output_management_) // the head goes once the loop is idle, with this output gone
        output_management_->outputs_changed();
}

void Server::on_inventory_changed() {
    host_readiness_->libvirt_changed(inventory_->status());
    if (stage_)
        stage_->displays().sync();
    if (kiosk_) {
        kiosk_act(kiosk_->on_inventory(inventory_->find(kiosk_->guest()),
                                       inventory_->status().state == guestview::ConnectionState::Connected,
                                       session::KioskPolicy::Clock::now()));
        kiosk_update();
    }
    overlay_model_.set_guests(inventory_->guests());
    overlay_model_.set_connection(inventory_->status());
    if (usb_) {
        usb_->guests_changed();
        overlay_model_.set_usb(usb_->list());
    }
    refresh_overlay();
}

void Server::on_action_done(const guestview::ActionResult& r) {
    if (kiosk_ && !r.ok && r.action == guestview::Action::Start && r.guest == kiosk_->guest()) {
        kiosk_act(kiosk_->on_start_failed(r.error, session::KioskPolicy::Clock::now()));
        kiosk_update();
    }
    // phyllomectl waits for its own request's outcome.
    auto pending = std::find_if(pending_replies_.begin(), pending_replies_.end(), [&](const PendingReply& p) {
        return p.action == r.action && p.guest == r.guest;
    });
    if (pending != pending_replies_.end()) {
        auto reply = std::move(pending->reply);
        pending_replies_.erase(pending);
        reply(r.ok, r.ok ? (r.note.empty() ? fmt::format("{}: {} done\n", r.guest, guestview::to_string(r.action))
                                           : fmt::format("{}: {}\n", r.guest, r.note))
                         : fmt::format("{}: {} failed: {}\n", r.guest, guestview::to_string(r.action), r.error));
    }
    if (r.ok) {
        log::info("guest {}: {} done", r.guest, guestview::to_string(r.action));
        overlay_model_.set_notice(
            r.action == guestview::Action::Shutdown
                ? fmt::format("{}: asked the guest to shut down", r.guest)
                : !r.note.empty() ? fmt::format("{}: {}", r.guest, r.note)
                                  : fmt::format("{}: {} done", r.guest, guestview::to_string(r.action)),
            false);
    } else {
        log::error("guest {}: {} failed: {}", r.guest, guestview::to_string(r.action), r.error);
        overlay_model_.set_notice(fmt::format("{}: {} failed: {}", r.guest, guestview::to_string(r.action), r.error),
                                  true);
    }
    refresh_overlay();
}

void Server::on_control_request(const control::Request& r, ControlServer::Reply reply) {
    if (kiosk_locked() && !commands::allowed_in_locked_kiosk(r.verb)) {
        log::info("control: a request refused in kiosk mode");
        reply(false, fmt::format("refused in kiosk mode: this session shows only {} (status, screenshot and quit "
                                 "still work; the kiosk's admin key opens the overlay)\n",
                                 kiosk_->guest()));
        return;
    }
    if (const commands::Handler handler = commands::handler_for(r.verb))
        handler(r, *this, std::move(reply));
    else
        reply(false, "this shell does not know that verb\n");
}

guestview::GuestSpec Server::new_guest_spec(std::string name) const {
    guestview::GuestSpec spec;
    spec.name = std::move(name);
    spec.accel3d = host_readiness_->has_virgl(); // 3D only where the readiness check saw virgl work
    spec.heads = std::clamp(static_cast<int>(std::ranges::count_if(outputs_, [](const auto& o) { return o->wlr()->enabled; })),
                            1, guestview::max_heads); // a head per output the user sees
    spec.disk_dir = default_disk_dir(inventory_->status().uri);
    std::error_code ec;
    std::filesystem::create_directories(spec.disk_dir, ec); // the user's images folder may not exist yet
    return spec;
}

void Server::reply_when_done(guestview::Action action, std::string guest, commands::Reply reply) {
    pending_replies_.push_back({action, std::move(guest), std::move(reply)});
}

std::string Server::add_output(int width, int height, std::string& error) {
    return HeadlessOutputs(backend()).add(width, height, error).value_or("");
}

bool Server::remove_output(const std::string& name, std::string& error) {
    auto it = std::find_if(outputs_.begin(), outputs_.end(), [&](const auto& o) { return name == o->wlr()->name; });
    if (it == outputs_.end()) {
        std::string names;
        for (const auto& o : outputs_)
            names += (names.empty() ? "" : ", ") + std::string(o->wlr()->name);
        error = fmt::format("there is no output named '{}' (outputs: {})", name, names.empty() ? "none" : names);
        return false;
    }
    return HeadlessOutputs(backend()).remove((*it)->wlr(), error);
}

void Server::kiosk_act(session::KioskPolicy::Decision d) {
    using Kind = session::KioskPolicy::Decision::Kind;
    switch (d.kind) {
    case Kind::Nothing: break;
    case Kind::Start:
        if (d.delay.count() > 0) {
            wl_event_source_timer_update(kiosk_timer_.get(), static_cast<int>(d.delay.count()));
        } else {
            log::info("kiosk: starting {}", kiosk_->guest());
            inventory_->request(guestview::Action::Start, kiosk_->guest());
        }
        break;
    case Kind::ShowOverlay:
        kiosk_admin_ = true; // the policy hands the session to the management overlay
        show_overlay(false);
        break;
    case Kind::Exit:
        log::info("kiosk: {} stopped; ending the session as configured", kiosk_->guest());
        exit_code_ = kiosk_->crashes_in_a_row() > 0 ? 1 : 0;
        terminate();
        break;
    }
}

void Server::kiosk_update() {
    if (!kiosk_)
        return;
    if (!kiosk_->showing_guest() && stage_->shown() == kiosk_->guest())
        show_overlay(false); // the kiosk screen (not the list) takes over while it restarts
    refresh_overlay(true);
    // Wake for the restart itself, and every second before it to keep the countdown current.
    if (auto at = kiosk_->restart_at()) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*at - session::KioskPolicy::Clock::now());
        wl_event_source_timer_update(kiosk_timer_.get(), static_cast<int>(std::clamp<long>(left.count(), 1, 1000)));
    }
}

void Server::schedule_memory_release() {
    if (memory_release_timer_)
        wl_event_source_timer_update(memory_release_timer_.get(), 1000);
}

void Server::output_presented(Output& output, bool first) {
    if (first && !first_frame_ms_) {
        first_frame_ms_ = process_age_ms();
        first_frame_at_ms_ = monotonic_ms();
        log::info("first frame on {} {:.1f} ms after process start ({:.1f} ms of main-thread CPU)", output.wlr()->name,
                  first_frame_ms_.value_or(-1), thread_cpu_ms());
    }
    if (stage_) // none yet while the backend starts
        stage_->output_presented(output);
    if (lock_)
        lock_->output_committed(output);
}

} // namespace phyllome::compositor
