#include "compositor/server.hpp"

#include <signal.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>

#include <fmt/format.h>

#include "build_config.h"
#include "compositor/app_launcher.hpp"
#include "session/host_check.hpp"
#include "compositor/guest_identity.hpp"
#include "compositor/headless_outputs.hpp"
#include "compositor/keyboard.hpp"
#include "compositor/output.hpp"
#include "compositor/overlay_painter.hpp"
#include "compositor/process_stats.hpp"
#include "compositor/xdg_view.hpp"
#include "config/log.hpp"
#include "guestview/agent_process.hpp"

namespace phyllome::compositor {
namespace {

template <typename T>
T* require(T* p, const char* what) {
    if (!p)
        throw std::runtime_error(fmt::format("wlroots: {} failed", what));
    return p;
}

} // namespace

Server::Server(ServerOptions options)
    : config_(std::move(options.config)), explicit_config_path_(std::move(options.config_path)),
      process_start_ms_(options.process_start_ms), warmup_(std::move(options.warmup)) {
    display_ = require(wl_display_create(), "wl_display_create");
    loop_ = wl_display_get_event_loop(display_);
    setup_signals(); // before any thread exists, so every thread inherits the blocked signals

    backend_ = require(wlr_backend_autocreate(display_), "creating a backend (wlr_backend_autocreate)");
    renderer_ = require(wlr_renderer_autocreate(backend_), "creating a renderer");
    wlr_renderer_init_wl_display(renderer_, display_);
    allocator_ = require(wlr_allocator_autocreate(backend_, renderer_), "creating an allocator");

    require(wlr_compositor_create(display_, renderer_), "wlr_compositor_create");
    require(wlr_data_device_manager_create(display_), "wlr_data_device_manager_create");
    output_layout_ = require(wlr_output_layout_create(), "wlr_output_layout_create");
    require(wlr_xdg_output_manager_v1_create(display_, output_layout_), "xdg-output");
    require(wlr_screencopy_manager_v1_create(display_), "wlr-screencopy");

    scene_ = require(wlr_scene_create(), "wlr_scene_create");
    wlr_scene_attach_output_layout(scene_, output_layout_);
    // Z order, bottom to top: guests, overlay, banner, host application views. No background node:
    // the scene clears damage to black itself, and a full-output rect costs a full fill per commit.
    guest_layer_ = &require(wlr_scene_tree_create(&scene_->node), "scene tree")->node;
    overlay_layer_ = &require(wlr_scene_tree_create(&scene_->node), "scene tree")->node;
    osd_layer_ = &require(wlr_scene_tree_create(&scene_->node), "scene tree")->node;
    view_layer_ = &require(wlr_scene_tree_create(&scene_->node), "scene tree")->node;

    xdg_shell_ = require(wlr_xdg_shell_create(display_), "wlr_xdg_shell_create");
    new_xdg_surface_.connect(&xdg_shell_->events.new_surface, [this](wlr_xdg_surface* surface) {
        if (surface->role == WLR_XDG_SURFACE_ROLE_POPUP) {
            wlr_xdg_surface* parent = wlr_xdg_surface_from_wlr_surface(surface->popup->parent);
            if (parent && parent->data)
                surface->data = wlr_scene_xdg_surface_create(static_cast<wlr_scene_node*>(parent->data), surface);
            return;
        }
        if (surface->role == WLR_XDG_SURFACE_ROLE_TOPLEVEL)
            views_.push_front(std::make_unique<XdgView>(*this, surface));
    });

    seat_ = std::make_unique<Seat>(SeatParts{display_, backend_, output_layout_, view_layer_, warmup_.get()}, config(),
                                   static_cast<InputTarget&>(*this));

    new_output_.connect(&backend_->events.new_output, [this](wlr_output* o) { on_new_output(o); });
    layout_change_.connect(&output_layout_->events.change, [this](void*) {
        for (auto& o : outputs_)
            o->update_position();
        refresh_overlay(true);
        if (displays_)
            relayout_guests();
        if (banner_) // outputs come and go (hotplug): the banner and edges follow
            banner_->relayout();
    });

    banner_ = std::make_unique<IdentityBanner>(*this);
    if (std::string kiosk = options.kiosk_guest.empty() ? config().kiosk.guest : options.kiosk_guest; !kiosk.empty()) {
        const auto& k = config().kiosk;
        kiosk_ = std::make_unique<session::KioskPolicy>(kiosk, k.on_guest_exit, std::chrono::milliseconds(k.restart_delay_ms),
                                                        std::chrono::milliseconds(k.restart_delay_max_ms));
        kiosk_timer_ = wl_event_loop_add_timer(loop_, [](void* data) {
            auto* self = static_cast<Server*>(data);
            self->kiosk_act(self->kiosk_->on_timer(session::KioskPolicy::Clock::now()));
            self->kiosk_update();
            return 0;
        }, this);
        log::info("kiosk mode: showing only {} (when it stops: {})", kiosk, config::to_string(k.on_guest_exit));
    }
    memory_release_timer_ = wl_event_loop_add_timer(loop_, [](void*) {
        release_free_memory();
        return 0;
    }, nullptr);

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

    const char* socket = wl_display_add_socket_auto(display_);
    if (!socket)
        throw std::runtime_error("cannot open a Wayland socket (is XDG_RUNTIME_DIR set and writable?)");
    setenv("WAYLAND_DISPLAY", socket, 1);
    log::info("Wayland display {}", socket);

    // The backend's start paints the first overlay: it uses the fonts the warm-up loaded.
    if (warmup_)
        warmup_->use_fonts_on_this_thread();
    if (!wlr_backend_start(backend_))
        throw std::runtime_error("cannot start the backend (no seat access? try from a VT with seatd or logind)");
    setup_control_socket();

    // One posix_spawn: libvirt loads and connects in the agent while we go on.
    inventory_ = std::make_unique<guestview::AgentInventory>(
        loop_, options.libvirt_uri,
        guestview::GuestInventory::Callbacks{[this] { on_inventory_changed(); },
                                             [this](const guestview::ActionResult& r) { on_action_done(r); }},
        guestview::agent::libvirt_agent_path(), log::level());
    guestview::GuestDisplays::Events events;
    events.attached = [this](const std::string& g) { on_display_attached(g); };
    events.detached = [this](const std::string& g, const std::string& reason) { on_display_detached(g, reason); };
    events.console_changed = [this](const std::string& g, const guestview::ConsoleInfo& c) {
        if (auto it = guest_views_.find(g); it != guest_views_.end()) {
            it->second->set_absolute(c.id, c.mouse_is_absolute);
            if (g == shown_guest_)
                seat_->update_cursor_image();
        }
    };
    events.frame = [this](const std::string& g, std::uint32_t console, const guestview::FrameEvent& ev) {
        if (auto it = guest_views_.find(g); it != guest_views_.end())
            it->second->on_frame(console, ev);
        if (ev.new_buffer)
            schedule_memory_release(); // the old buffer may have been freed into the heap
        // Kiosk: the "Starting…" screen stays until the guest has something to show.
        if (kiosk_ && g == kiosk_->guest() && !kiosk_->showing_guest()) {
            kiosk_->on_first_frame(session::KioskPolicy::Clock::now());
            std::string error;
            if (!kiosk_admin_)
                show_guest(g, error);
            kiosk_update();
        }
    };
    events.display_off = [this](const std::string& g, std::uint32_t console) {
        if (auto it = guest_views_.find(g); it != guest_views_.end())
            it->second->on_display_off(console);
    };
    events.cursor = [this](const std::string& g, std::uint32_t console, const guestview::CursorShape& c) {
        if (auto it = guest_views_.find(g); it != guest_views_.end())
            it->second->on_cursor(console, c);
    };
    events.pointer = [this](const std::string& g, std::uint32_t console, const guestview::PointerPosition& p) {
        if (auto it = guest_views_.find(g); it != guest_views_.end())
            it->second->on_guest_pointer(console, p);
    };
    displays_ = std::make_unique<guestview::GuestDisplays>(loop_, *inventory_, std::move(events));
    start_host_check();
    for (const auto& d : options.displays)
        displays_->add_manual(d.name, d.address);
    on_inventory_changed();
}

Server::~Server() {
    // Order matters: libvirt and control clients first, then clients and wlroots objects.
    control_.reset();
    if (host_check_.joinable())
        host_check_.join(); // it posts to the mailbox, which goes below
    mailbox_.reset();
    if (kiosk_timer_)
        wl_event_source_remove(kiosk_timer_);
    if (memory_release_timer_)
        wl_event_source_remove(memory_release_timer_);
    banner_.reset();
    guest_views_.clear();
    displays_.reset();
    inventory_.reset();
    shown_input_.reset();
    // Our listeners sit in lists owned by the objects destroyed below.
    disconnect_listeners();
    for (auto* s : signal_sources_)
        wl_event_source_remove(s);
    if (display_)
        wl_display_destroy_clients(display_);
    views_.clear();
    seat_.reset(); // its keyboards and cursor before the devices and the layout they use
    if (backend_)
        wlr_backend_destroy(backend_); // destroys outputs, which remove themselves
    outputs_.clear();
    warmup_.reset();
    if (output_layout_)
        wlr_output_layout_destroy(output_layout_);
    if (scene_)
        wlr_scene_node_destroy(&scene_->node);
    if (allocator_)
        wlr_allocator_destroy(allocator_);
    if (renderer_)
        wlr_renderer_destroy(renderer_);
    if (display_)
        wl_display_destroy(display_);
}

void Server::disconnect_listeners() {
    new_output_.disconnect();
    new_xdg_surface_.disconnect();
    layout_change_.disconnect();
}

void Server::setup_signals() {
    auto on_signal = [](int sig, void* data) {
        log::info("received signal {}, shutting down", sig);
        static_cast<Server*>(data)->terminate();
        return 0;
    };
    for (int sig : {SIGTERM, SIGINT})
        signal_sources_.push_back(wl_event_loop_add_signal(loop_, sig, on_signal, this));
    signal_sources_.push_back(wl_event_loop_add_signal(
        loop_, SIGHUP,
        [](int, void* data) {
            static_cast<Server*>(data)->reload_config();
            return 0;
        },
        this));
    signal(SIGPIPE, SIG_IGN);
}

std::vector<std::string> Server::find_installers() {
    namespace fs = std::filesystem;
    const char* home = std::getenv("HOME");
    const char* data = std::getenv("XDG_DATA_HOME");
    const std::string data_home = data && *data == '/' ? data : std::string(home ? home : "/") + "/.local/share";
    std::vector<std::string> found;
    for (const std::string& dir : {std::string(home ? home : "") + "/Downloads", data_home + "/phyllome/isos",
                                  std::string("/var/lib/libvirt/images"), std::string("/var/lib/libvirt/boot")}) {
        std::error_code ec;
        for (const auto& e : fs::directory_iterator(dir, ec)) {
            std::string ext = e.path().extension().string();
            std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
            if (ext == ".iso" && e.is_regular_file(ec))
                found.push_back(e.path().string());
        }
    }
    std::sort(found.begin(), found.end());
    return found;
}

std::string Server::guest_name_for_installer(const std::string& iso) const {
    // "debian-12.5.0-amd64-netinst.iso" -> "debian-12.5.0-amd64-netinst", made unique.
    std::string stem = std::filesystem::path(iso).stem().string(), base;
    for (char c : stem)
        base += (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.') ? c : '-';
    while (!base.empty() && (base.front() == '.' || base.front() == '-'))
        base.erase(0, 1);
    if (base.empty())
        base = "guest";
    base = base.substr(0, 56);
    std::string name = base;
    for (int n = 2; inventory_->find(name); ++n)
        name = fmt::format("{}-{}", base, n);
    return name;
}

std::string Server::default_disk_dir(const std::string& uri) {
    // Next to the system's own images for the system libvirt; the user's data otherwise.
    if (uri.starts_with("qemu:///system"))
        return "/var/lib/libvirt/images";
    const char* data = std::getenv("XDG_DATA_HOME");
    const char* home = std::getenv("HOME");
    const std::string base = data && *data == '/' ? data : std::string(home ? home : "/tmp") + "/.local/share";
    return base + "/phyllome/images";
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
    for (auto& o : outputs_)
        o->apply_config();
    overlay_model_.set_apps(config().apps);
    overlay_model_.set_config_problem("");
    overlay_model_.set_notice(fmt::format("Config reloaded from {}", config_.path.empty() ? "defaults" : config_.path),
                              false);
    refresh_overlay(true);
    relayout_guests();
    banner_->relayout();
    log::info("config reloaded from {}", config_.path.empty() ? "built-in defaults" : config_.path);
}

void Server::setup_control_socket() {
    const char* rt = std::getenv("XDG_RUNTIME_DIR");
    const char* wd = std::getenv("WAYLAND_DISPLAY");
    if (!rt || !wd)
        return;
    try {
        control_ = std::make_unique<ControlServer>(
            loop_, control::socket_path_for(rt, wd),
            [this](const control::Request& r, ControlServer::Reply reply) { on_control_request(r, std::move(reply)); });
        setenv("PHYLLOME_SOCKET", control_->path().c_str(), 1);
        log::info("control socket {}", control_->path());
    } catch (const std::exception& e) {
        // The desktop still works without phyllomectl; say so and carry on.
        log::error("control socket unavailable: {}", e.what());
    }
}

int Server::run() {
    wl_display_run(display_);
    return exit_code_;
}

void Server::terminate() { wl_display_terminate(display_); }

void Server::on_new_output(wlr_output* wlr) {
    try {
        outputs_.push_back(std::make_unique<Output>(*this, wlr));
    } catch (const std::exception& e) {
        log::error("{}", e.what());
        return;
    }
    refresh_overlay(true);
    relayout_guests();
    banner_->relayout(); // the layout changed before this output was in outputs_
    for (auto& v : views_)
        if (v->mapped() && v.get() == focused_view())
            v->fill(outputs_.front()->layout_box());
    outputs_.back()->present_now();
}

bool Server::output_covered(const Output& output) {
    if (overlay_layer_->state.enabled)
        return output.has_overlay_picture();
    const GuestView* v = shown_view();
    return v && v->covers(output);
}

std::size_t Server::frame_buffer_bytes() const {
    std::size_t bytes = 0;
    for (const auto& o : outputs_)
        bytes += o->picture_bytes();
    // A frame can be both guestview's current one and on screen: count each once.
    std::vector<const guestview::Frame*> frames;
    for (const auto& [name, view] : guest_views_)
        view->collect_frames(frames);
    if (displays_)
        for (const auto& guest : displays_->guests_with_display())
            if (const auto* conn = displays_->connection(guest))
                conn->collect_frames(frames);
    std::sort(frames.begin(), frames.end());
    frames.erase(std::unique(frames.begin(), frames.end()), frames.end());
    for (const auto* f : frames)
        if (f->storage() != guestview::FrameStorage::Dmabuf)
            bytes += f->size_bytes();
    return bytes;
}

void Server::present_now() {
    for (auto& o : outputs_)
        o->present_now();
}

void Server::remove_output(Output& output) {
    for (auto& [name, view] : guest_views_)
        view->forget_output(output);
    outputs_.remove_if([&](const auto& o) { return o.get() == &output; });
    refresh_overlay(true);
    // A host application filled the output that went: it fills the first one left.
    if (XdgView* v = focused_view(); v && !outputs_.empty())
        v->fill(outputs_.front()->layout_box());
}

XdgView* Server::focused_view() const {
    for (const auto& v : views_)
        if (v->mapped())
            return v.get();
    return nullptr;
}

void Server::view_mapped(XdgView& view) {
    // Move it to the top of our stack.
    auto it = std::find_if(views_.begin(), views_.end(), [&](const auto& v) { return v.get() == &view; });
    if (it != views_.end())
        views_.splice(views_.begin(), views_, it);
    if (!outputs_.empty())
        view.fill(outputs_.front()->layout_box());
    view.focus();
}

void Server::view_unmapped(XdgView&) { focus_top_view(); }

void Server::remove_view(XdgView& view) {
    views_.remove_if([&](const auto& v) { return v.get() == &view; });
    focus_top_view();
}

void Server::focus_top_view() {
    if (XdgView* v = focused_view()) {
        v->focus();
        return;
    }
    seat_->clear_focus();
}

void Server::overlay_key(xkb_keysym_t sym, std::uint32_t modifiers) {
    if (modifiers & (WLR_MODIFIER_CTRL | WLR_MODIFIER_ALT | WLR_MODIFIER_LOGO))
        return;
    using Key = OverlayModel::Key;
    std::optional<Key> key;
    std::size_t app = 0;
    switch (sym) {
    case XKB_KEY_Up: case XKB_KEY_k: key = Key::Up; break;
    case XKB_KEY_Down: case XKB_KEY_j: key = Key::Down; break;
    case XKB_KEY_Home: key = Key::Home; break;
    case XKB_KEY_End: key = Key::End; break;
    case XKB_KEY_Return: case XKB_KEY_KP_Enter: key = Key::Enter; break;
    case XKB_KEY_s: key = Key::Start; break;
    case XKB_KEY_d: key = Key::Shutdown; break;
    case XKB_KEY_f: key = Key::ForceOff; break;
    case XKB_KEY_a: key = Key::Adopt; break;
    case XKB_KEY_n: key = Key::NewGuest; break;
    case XKB_KEY_Escape: key = Key::Cancel; break;
    default:
        if (sym >= XKB_KEY_F1 && sym <= XKB_KEY_F12) {
            key = Key::App;
            app = sym - XKB_KEY_F1;
        }
    }
    if (!key)
        return;
    if (*key == Key::NewGuest && !overlay_model_.choosing_installer()) {
        overlay_model_.set_installers(find_installers());
        refresh_overlay();
        return;
    }
    auto cmd = overlay_model_.on_key(*key, OverlayModel::Clock::now(), app);
    if (cmd)
        run_overlay_command(*cmd);
    refresh_overlay();
}

void Server::run_overlay_command(const OverlayCommand& command) {
    switch (command.kind) {
    case OverlayCommand::Kind::GuestAction:
        overlay_model_.set_notice(fmt::format("{}: {}…", command.target, guestview::to_string(command.action)), false);
        inventory_->request(command.action, command.target);
        break;
    case OverlayCommand::Kind::ShowGuest: {
        std::string error;
        if (!show_guest(command.target, error))
            overlay_model_.set_notice(fmt::format("Cannot show {}: {}", command.target, error), true);
        break;
    }
    case OverlayCommand::Kind::LaunchApp:
        launch_app(std::stoul(command.target));
        break;
    case OverlayCommand::Kind::CreateGuest: {
        guestview::GuestSpec spec = new_guest_spec(guest_name_for_installer(command.target));
        spec.iso_path = command.target;
        overlay_model_.set_notice(fmt::format("Creating {}…", spec.name), false);
        inventory_->create(spec, [this, name = spec.name](bool ok, std::string message) {
            overlay_model_.set_notice(ok ? fmt::format("{} created{}{}: select it and press Enter to start the installer",
                                                       name, message.empty() ? "" : "; ", message)
                                         : fmt::format("Cannot create {}: {}", name, message),
                                      !ok);
            refresh_overlay();
        });
        break;
    }
    case OverlayCommand::Kind::Adopt:
        overlay_model_.set_notice(fmt::format("{}: switching to the Phyllome display…", command.target), false);
        inventory_->adopt(command.target, [this, guest = command.target](bool ok, std::string error) {
            overlay_model_.set_notice(ok ? fmt::format("{} will use the Phyllome display from its next start", guest)
                                         : fmt::format("{}: cannot switch its display: {}", guest, error),
                                      !ok);
            refresh_overlay();
        });
        break;
    }
    refresh_overlay();
}

void Server::launch_app(std::size_t index) {
    const auto& apps = config().apps;
    if (index >= apps.size())
        return;
    std::string error;
    if (launch_detached(apps[index].command, error)) {
        log::info("launched {} ({})", apps[index].name, apps[index].command);
        overlay_model_.set_notice(fmt::format("Starting {}…", apps[index].name), false);
    } else {
        log::error("cannot launch {}: {}", apps[index].name, error);
        overlay_model_.set_notice(fmt::format("Cannot start {}: {}", apps[index].name, error), true);
    }
}

std::string Server::host_key_label() const {
    const std::string& k = config().hotkeys.host_key;
    return k == "Control_R" ? "Right Ctrl" : k == "Control_L" ? "Left Ctrl" : k == "Alt_R" ? "Right Alt" : k;
}

std::string Server::hotkey_help() const {
    std::string help = "↑↓ select   Enter show/start   S start   D shut down   F F force off   A A adopt   N new";
    if (!config().apps.empty())
        help += "   F1… apps";
    help += fmt::format("   {0}+1…9 guest   {0}+Home here", host_key_label());
    return help;
}

void Server::refresh_overlay(bool force) {
    // Behind a guest nobody sees it: show_overlay() paints it afresh.
    if (!overlay_layer_->state.enabled)
        return;
    if (!overlay_model_.take_dirty() && !force)
        return;
    OverlayPaintInput in;
    in.model = &overlay_model_;
    in.style = &config().overlay;
    in.hotkey_help = hotkey_help();
    if (kiosk_locked())
        in.message = kiosk_->message(session::KioskPolicy::Clock::now());
    const auto& conn = overlay_model_.connection();
    in.status_line = fmt::format("libvirt {} ({})   ·   {}", conn.uri,
                                 conn.state == guestview::ConnectionState::Connected ? "connected" : "not connected",
                                 host_summary_);
    for (auto& o : outputs_)
        o->paint_overlay(in);
    schedule_memory_release(); // each repaint frees the previous full-output picture into the heap
}

void Server::overlay_click(double lx, double ly) {
    for (auto& o : outputs_) {
        wlr_box box = o->layout_box();
        if (lx < box.x || ly < box.y || lx >= box.x + box.width || ly >= box.y + box.height)
            continue;
        auto cmd = overlay_model_.on_click(lx - box.x, ly - box.y, o->overlay_hits(), OverlayModel::Clock::now());
        if (cmd)
            run_overlay_command(*cmd);
        refresh_overlay();
        return;
    }
}

void Server::on_inventory_changed() {
    update_host_summary();
    if (displays_)
        displays_->sync();
    if (kiosk_) {
        kiosk_act(kiosk_->on_inventory(inventory_->find(kiosk_->guest()),
                                       inventory_->status().state == guestview::ConnectionState::Connected,
                                       session::KioskPolicy::Clock::now()));
        kiosk_update();
    }
    overlay_model_.set_guests(inventory_->guests());
    overlay_model_.set_connection(inventory_->status());
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
        reply(r.ok, r.ok ? fmt::format("{}: {} done\n", r.guest, guestview::to_string(r.action))
                         : fmt::format("{}: {} failed: {}\n", r.guest, guestview::to_string(r.action), r.error));
    }
    if (r.ok) {
        log::info("guest {}: {} done", r.guest, guestview::to_string(r.action));
        overlay_model_.set_notice(
            r.action == guestview::Action::Shutdown
                ? fmt::format("{}: asked the guest to shut down", r.guest)
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
    if (const commands::Handler handler = commands::handler_for(r.verb))
        handler(r, *this, std::move(reply));
    else
        reply(false, "this shell does not know that verb\n");
}

guestview::GuestSpec Server::new_guest_spec(std::string name) const {
    guestview::GuestSpec spec;
    spec.name = std::move(name);
    spec.accel3d = host_has_virgl_; // 3D only where the readiness check saw virgl work
    spec.disk_dir = default_disk_dir(inventory_->status().uri);
    std::error_code ec;
    std::filesystem::create_directories(spec.disk_dir, ec); // the user's images folder may not exist yet
    return spec;
}

void Server::reply_when_done(guestview::Action action, std::string guest, commands::Reply reply) {
    pending_replies_.push_back({action, std::move(guest), std::move(reply)});
}

std::string Server::add_output(int width, int height, std::string& error) {
    return HeadlessOutputs(backend_).add(width, height, error).value_or("");
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
    return HeadlessOutputs(backend_).remove((*it)->wlr(), error);
}

StatusSnapshot Server::status() const {
    StatusSnapshot s;
    s.libvirt = inventory_->status();
    s.view = shown_guest_.empty() ? "overlay" : "guest";
    if (!shown_guest_.empty())
        s.guest = shown_guest_;
    const auto numbers = number_guests(inventory_->guests());
    for (const auto& g : inventory_->guests()) {
        GuestStatus gs;
        gs.info = g;
        gs.colour = guest_colour(g);
        for (const auto& n : numbers)
            if (n.name == g.name)
                gs.number = n.number;
        fill_display_status(gs);
        s.guests.push_back(std::move(gs));
    }
    for (const auto& m : displays_->manual()) {
        GuestStatus gs;
        gs.info.name = m.name;
        gs.info.state = guestview::GuestState::Running;
        gs.info.graphics = guestview::GraphicsSupport::DbusP2P;
        gs.info.graphics_note = m.address;
        gs.colour = colour_from_name(m.name);
        fill_display_status(gs);
        s.guests.push_back(std::move(gs));
    }
    for (const auto& o : outputs_) {
        wlr_box box = o->layout_box();
        s.outputs.push_back({o->wlr()->name, o->wlr()->width, o->wlr()->height, o->wlr()->scale, box.x, box.y,
                             o->scanning_out(), o->scanout_commits()});
    }
    s.selected = overlay_model_.selection();
    if (!outputs_.empty()) {
        wlr_box box = outputs_.front()->layout_box();
        for (auto r : outputs_.front()->overlay_hits().rows) {
            r.x += box.x;
            r.y += box.y;
            s.overlay_rows.push_back(r);
        }
    }
    s.config_path = config_.path;
    for (const auto& d : config_.diagnostics)
        s.config_problems.push_back(d.to_string());
    s.first_frame_ms = first_frame_ms_;
    s.first_frame_at_ms = first_frame_at_ms_;
    s.last_switch_ms = last_switch_ms_;
    s.host = host_summary_;
    if (kiosk_) {
        s.kiosk_guest = kiosk_->guest();
        s.kiosk_message = kiosk_->message(session::KioskPolicy::Clock::now());
    }
    s.rss_kb = resident_kb();
    const ResidentParts parts = resident_parts();
    s.rss_anon_kb = parts.anon_kb;
    s.rss_file_kb = parts.file_kb;
    s.rss_shmem_kb = parts.shmem_kb;
    s.frame_buffers_kb = static_cast<long>(frame_buffer_bytes() / 1024);
    s.cpu_ms = process_cpu_ms();
    if (const pid_t agent = inventory_->agent_pid(); agent > 0) {
        const ResidentParts agent_parts = resident_parts(agent);
        s.agent_pid = agent;
        s.agent_rss_kb = agent_parts.total_kb;
        s.agent_rss_anon_kb = agent_parts.anon_kb;
        s.agent_rss_file_kb = agent_parts.file_kb;
    }
    return s;
}

void Server::fill_display_status(GuestStatus& gs) const {
    const auto st = displays_->status(gs.info.name);
    using guestview::DisplayState;
    gs.display = st.state == DisplayState::Connected    ? "connected"
                 : st.state == DisplayState::Connecting ? "connecting"
                 : st.state == DisplayState::Error      ? "error"
                                                        : "none";
    gs.display_error = st.error;
    const auto* conn = displays_->connection(gs.info.name);
    const auto consoles = displays_->graphic_consoles(gs.info.name);
    if (!conn || consoles.empty())
        return;
    for (std::uint32_t id : consoles) {
        const auto stats = conn->stats(id);
        gs.frames += stats.frames_received;
        gs.copies += stats.copies;
        gs.bytes_copied += stats.bytes_copied;
        gs.refused += stats.refused;
    }
    if (auto it = guest_views_.find(gs.info.name); it != guest_views_.end()) {
        const auto& lat = it->second->present_latency();
        gs.frames_presented = it->second->frames_presented();
        gs.present_p50_ms = lat.percentile(50);
        gs.present_p99_ms = lat.percentile(99);
    }
    if (auto frame = conn->current_frame(consoles.front())) {
        using guestview::FrameStorage;
        gs.scanout = ScanoutStatus{static_cast<int>(frame->width()), static_cast<int>(frame->height()),
                                   frame->storage() == FrameStorage::SharedMemory ? "map"
                                   : frame->storage() == FrameStorage::Dmabuf     ? "dmabuf"
                                                                                  : "copy"};
    }
}

void Server::output_presented(Output& output) {
    GuestView* v = shown_view();
    if (!v)
        return;
    v->on_output_commit(output);
    // Hotkey to the first commit that carries the new guest's picture.
    if (switch_started_ms_ && v->has_frame()) {
        last_switch_ms_ = monotonic_ms() - *switch_started_ms_;
        switch_started_ms_.reset();
        log::debug("switched to {} in {:.2f} ms", shown_guest_, *last_switch_ms_);
    }
}

void Server::start_host_check() {
    mailbox_ = std::make_unique<guestview::LoopMailbox>(loop_);
    session::HostCheckOptions opts;
    opts.libvirt_uri = inventory_->status().uri;
    opts.probe_libvirt = false; // the inventory already knows, and an embedded root admits one process
    opts.register_event_loop = false;
    host_check_ = std::jthread([this, opts] {
        session::HostReport report = session::check_host(opts);
        const auto* virgl = report.find("virgl");
        const bool has_virgl = virgl && virgl->status == session::CheckStatus::Ok;
        mailbox_->post([this, report = std::move(report), has_virgl]() mutable {
            host_report_ = std::move(report);
            host_has_virgl_ = has_virgl;
            update_host_summary();
            refresh_overlay(true);
        });
    });
}

// libvirt is the inventory's to judge: it holds the connection (and an embedded root admits one
// process), so its live state stands in for the probe, now and on every change.
void Server::update_host_summary() {
    if (!host_report_)
        return;
    const auto& st = inventory_->status();
    for (auto& item : host_report_->items)
        if (item.id == "libvirt") {
            const bool up = st.state == guestview::ConnectionState::Connected;
            const bool connecting = st.state == guestview::ConnectionState::Connecting;
            item.status = up ? session::CheckStatus::Ok : session::CheckStatus::Missing;
            item.detail = up ? "connected" : connecting ? "connecting" : st.error;
            item.brief = up ? "" : connecting ? "connecting" : "unreachable";
        }
    std::string summary = session::summary_line(*host_report_);
    if (summary != host_summary_) // the check's result, then libvirt's changes (the agent answers later)
        log::info("{}", summary);
    host_summary_ = std::move(summary);
}

void Server::kiosk_act(session::KioskPolicy::Decision d) {
    using Kind = session::KioskPolicy::Decision::Kind;
    switch (d.kind) {
    case Kind::Nothing: break;
    case Kind::Start:
        if (d.delay.count() > 0) {
            wl_event_source_timer_update(kiosk_timer_, static_cast<int>(d.delay.count()));
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
    if (!kiosk_->showing_guest() && shown_guest_ == kiosk_->guest())
        show_overlay(false); // the kiosk screen (not the list) takes over while it restarts
    refresh_overlay(true);
    // Wake for the restart itself, and every second before it to keep the countdown current.
    if (auto at = kiosk_->restart_at()) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*at - session::KioskPolicy::Clock::now());
        wl_event_source_timer_update(kiosk_timer_, static_cast<int>(std::clamp<long>(left.count(), 1, 1000)));
    }
}

void Server::schedule_memory_release() {
    if (memory_release_timer_)
        wl_event_source_timer_update(memory_release_timer_, 1000);
}

void Server::output_frame_committed(Output& output) {
    if (first_frame_ms_)
        return;
    first_frame_ms_ = process_age_ms();
    first_frame_at_ms_ = monotonic_ms();
    log::info("first frame on {} {:.1f} ms after process start ({:.1f} ms of main-thread CPU)", output.wlr()->name,
              first_frame_ms_.value_or(-1), thread_cpu_ms());
}

} // namespace phyllome::compositor
