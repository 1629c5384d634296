// The Server's management overlay: its keys and clicks, the commands they give (guest actions,
// showing a guest, creating one from an installer, host applications), and its repaint.
#include <filesystem>

#include <fmt/format.h>

#include "compositor/app_launcher.hpp"
#include "compositor/new_guest.hpp"
#include "compositor/output.hpp"
#include "compositor/overlay_painter.hpp"
#include "compositor/server.hpp"
#include "config/log.hpp"

namespace phyllome::compositor {

void Server::overlay_key(xkb_keysym_t sym, std::uint32_t modifiers) {
    // A locked kiosk's screen is a message, not the overlay: its keys do nothing.
    if (kiosk_locked() || (modifiers & (WLR_MODIFIER_CTRL | WLR_MODIFIER_ALT | WLR_MODIFIER_LOGO)))
        return;
    using Key = OverlayModel::Key;
    std::optional<Key> key;
    std::size_t app = 0;
    switch (sym) {
    case XKB_KEY_Up: case XKB_KEY_k: key = Key::Up; break;
    case XKB_KEY_Down: case XKB_KEY_j: key = Key::Down; break;
    case XKB_KEY_Left: case XKB_KEY_h: case XKB_KEY_minus: case XKB_KEY_KP_Subtract: key = Key::Left; break;
    case XKB_KEY_Right: case XKB_KEY_l: case XKB_KEY_plus: case XKB_KEY_equal: case XKB_KEY_KP_Add: key = Key::Right; break;
    case XKB_KEY_Home: key = Key::Home; break;
    case XKB_KEY_End: key = Key::End; break;
    case XKB_KEY_Return: case XKB_KEY_KP_Enter: key = Key::Enter; break;
    case XKB_KEY_s: key = Key::Start; break;
    case XKB_KEY_d: key = Key::Shutdown; break;
    case XKB_KEY_f: key = Key::ForceOff; break;
    case XKB_KEY_r: key = Key::Remove; break;
    case XKB_KEY_a: key = Key::Adopt; break;
    case XKB_KEY_e: key = Key::Eject; break;
    case XKB_KEY_n: key = Key::NewGuest; break;
    case XKB_KEY_c: key = Key::Duplicate; break;
    case XKB_KEY_t: key = Key::Snapshot; break;
    case XKB_KEY_b: key = Key::Backup; break;
    case XKB_KEY_x: key = Key::CancelJob; break;
    case XKB_KEY_o: key = Key::GuestCard; break;
    case XKB_KEY_u: key = Key::Usb; break;
    case XKB_KEY_Escape: key = Key::Cancel; break;
    default:
        if (sym >= XKB_KEY_F1 && sym <= XKB_KEY_F12) {
            key = Key::App;
            app = sym - XKB_KEY_F1;
        }
    }
    if (!key)
        return;
    if (*key == Key::NewGuest && !overlay_model_.choosing_installer() && overlay_model_.card() == nullptr) {
        overlay_model_.set_installers(find_installers(backup_directory(config().jobs.backup_directory)));
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
        // A kiosk is there to show its guest; removing one is for good, so it is refused even
        // after the admin key (host bindings are refused the same way while it is locked).
        if (command.action == guestview::Action::Remove && kiosk_) {
            overlay_model_.set_notice(
                fmt::format("This is a kiosk for {}: guests cannot be removed here", kiosk_->guest()), true);
            break;
        }
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
    case OverlayCommand::Kind::ShowWindow: {
        std::string error;
        if (!stage_->show_window(std::stoull(command.target), error))
            overlay_model_.set_notice(fmt::format("Cannot show that window: {}", error), true);
        break;
    }
    case OverlayCommand::Kind::PlanGuest: {
        if (is_exported_guest(command.target)) { // another host's guest: imported as it is
            run_job_from_overlay({guestview::JobKind::Import, {}, {}, command.target, false});
            break;
        }
        // The card opens at once ("looking at the installer…"); the agent's plan fills it in.
        const std::string name = guest_name_for_installer(
            command.target, [this](const std::string& n) { return inventory_->find(n) != nullptr; });
        overlay_model_.open_card(command.target, name);
        guestview::GuestSpec spec = new_guest_spec(name);
        spec.iso_path = command.target;
        inventory_->plan(std::move(spec), [this, iso = command.target](guestview::PlanView plan) {
            overlay_model_.set_card_plan(iso, std::move(plan));
            refresh_overlay();
        });
        break;
    }
    case OverlayCommand::Kind::CreateGuest: {
        const NewGuestCard* card = overlay_model_.card();
        if (card == nullptr || card->installer() != command.target)
            break;
        guestview::GuestSpec spec = new_guest_spec(card->name());
        spec.iso_path = card->installer();
        spec.os_id = card->plan() ? card->plan()->os_id : std::string{};
        spec.memory_mb = card->memory_mb();
        spec.cpus = card->cpus();
        spec.disk_size_gb = card->disk_gb();
        overlay_model_.close_card();
        overlay_model_.set_notice(fmt::format("Creating {}…", spec.name), false);
        inventory_->create(spec, [this, name = spec.name](bool ok, std::string message) {
            overlay_model_.set_notice(ok ? fmt::format("{} created: {}. Select it and press Enter to start the installer",
                                                       name, message)
                                         : fmt::format("Cannot create {}: {}", name, message),
                                      !ok);
            refresh_overlay();
        });
        break;
    }
    case OverlayCommand::Kind::StartJob:
        start_job_from_overlay(command.job, command.target);
        break;
    case OverlayCommand::Kind::RunJob:
        run_job_from_overlay(command.request);
        break;
    case OverlayCommand::Kind::GuestCard:
        open_guest_card(command.target);
        break;
    case OverlayCommand::Kind::Usb:
        usb_from_overlay(command.target, command.device);
        break;
    case OverlayCommand::Kind::UsbRemember:
        usb_remember_from_overlay(command.target, command.device, command.request.target);
        break;
    case OverlayCommand::Kind::CancelJob:
        inventory_->cancel_job(static_cast<std::uint32_t>(std::stoul(command.target)));
        break;
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
    if (index >= apps.size() || kiosk_locked())
        return;
    std::string error;
    if (launch_detached(apps[index].command, error)) {
        log::info("launched {} ({})", apps[index].name, apps[index].command);
        stage_->expect_window();
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
    std::string help = "↑↓ select   Enter show/start   S start   D shut down   F F force off   R R remove   A A adopt   E eject installer   N new\n"
                       "C duplicate   T snapshot   B back up   O snapshots, backups, export, move   X cancel job   U USB device";
    if (!config().apps.empty())
        help += "   F1… apps";
    help += fmt::format("   {0}+1…9 guest or window   {0}+←→ next   {0}+Home here", host_key_label());
    return help;
}

void Server::refresh_overlay(bool force) {
    // Behind a guest nobody sees it: show_overlay() paints it afresh.
    if (!overlay_layer()->node.enabled)
        return;
    if (stage_) { // none yet while the backend starts
        std::vector<WindowEntry> windows;
        for (XdgView* w : windows_->mapped())
            windows.push_back({w->id(), w->label(), stage_->window_number(*w)});
        overlay_model_.set_windows(std::move(windows));
    }
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
                                 host_readiness_->summary());
    if (sound_ && !sound_->problem().empty())
        in.status_line += "   ·   no sound server";
    std::vector<OverlayThumbnails::Spot> spots;
    for (auto& o : outputs_) {
        o->paint_overlay(in);
        const wlr_box box = o->layout_box();
        for (const auto& t : o->overlay_hits().thumbnails)
            spots.push_back({t.guest, {box.x + t.rect.x, box.y + t.rect.y, t.rect.width, t.rect.height}});
    }
    if (thumbnails_)
        thumbnails_->place(std::move(spots));
    schedule_memory_release(); // each repaint frees the previous full-output picture into the heap
}

void Server::overlay_click(double lx, double ly) {
    if (kiosk_locked())
        return;
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

} // namespace phyllome::compositor
