#include "compositor/overlay_model.hpp"

#include <algorithm>
#include <utility>

namespace phyllome::compositor {

using guestview::Action;
using guestview::GuestInfo;
using guestview::GuestState;

bool OverlayModel::can_start(const GuestInfo& g) {
    return g.state == GuestState::ShutOff || g.state == GuestState::Crashed ||
           g.state == GuestState::Paused || g.state == GuestState::Suspended;
}
bool OverlayModel::can_shutdown(const GuestInfo& g) { return g.state == GuestState::Running; }
bool OverlayModel::can_force_off(const GuestInfo& g) {
    return g.state == GuestState::Running || g.state == GuestState::Paused ||
           g.state == GuestState::ShuttingDown || g.state == GuestState::Suspended ||
           g.state == GuestState::Crashed;
}
bool OverlayModel::can_adopt(const GuestInfo& g) { return g.graphics == guestview::GraphicsSupport::Unsupported; }
// Only a guest at rest: removing undefines it and deletes its disks.
bool OverlayModel::can_remove(const GuestInfo& g) { return g.state == GuestState::ShutOff; }
bool OverlayModel::can_eject(const GuestInfo& g) { return g.installer_attached; }

bool OverlayModel::can_show(const GuestInfo& g) {
    return g.state == GuestState::Running && g.graphics == guestview::GraphicsSupport::DbusP2P;
}

void OverlayModel::set_guests(std::vector<GuestInfo> guests) {
    if (guests == guests_)
        return;
    guests_ = std::move(guests);
    if (guest_card_) {
        auto it = std::ranges::find(guests_, guest_card_->guest(), &GuestInfo::name);
        if (it == guests_.end())
            guest_card_.reset(); // removed, or moved to another host
        else
            guest_card_->update(*it);
    }
    if (!pending_force_off_.empty()) {
        const GuestInfo* g = nullptr;
        for (const auto& x : guests_)
            if (x.name == pending_force_off_)
                g = &x;
        if (!g || !can_force_off(*g))
            pending_force_off_.clear();
    }
    if (!pending_remove_.empty()) {
        auto it = std::ranges::find(guests_, pending_remove_, &GuestInfo::name);
        if (it == guests_.end() || !can_remove(*it))
            pending_remove_.clear();
    }
    dirty_ = true;
}

void OverlayModel::set_connection(guestview::ConnectionStatus status) {
    if (status.state == connection_.state && status.uri == connection_.uri &&
        status.error == connection_.error && status.retry_in == connection_.retry_in)
        return;
    connection_ = std::move(status);
    dirty_ = true;
}

void OverlayModel::set_apps(std::vector<config::App> apps) {
    if (apps == apps_)
        return;
    apps_ = std::move(apps);
    dirty_ = true;
}

void OverlayModel::set_windows(std::vector<WindowEntry> windows) {
    if (windows == windows_)
        return;
    windows_ = std::move(windows);
    dirty_ = true;
}

void OverlayModel::set_notice(std::string text, bool is_error) {
    notice_ = std::move(text);
    notice_is_error_ = is_error;
    dirty_ = true;
}

void OverlayModel::set_config_problem(std::string text) {
    config_problem_ = std::move(text);
    dirty_ = true;
}

std::optional<std::size_t> OverlayModel::selection() const {
    if (guests_.empty())
        return std::nullopt;
    for (std::size_t i = 0; i < guests_.size(); ++i)
        if (guests_[i].name == selected_name_)
            return i;
    return 0; // the selected guest vanished: fall back to the first row
}

const GuestInfo* OverlayModel::selected_guest() const {
    auto i = selection();
    return i ? &guests_[*i] : nullptr;
}

void OverlayModel::select_index(std::size_t index) {
    if (index >= guests_.size())
        return;
    if (guests_[index].name != selected_name_) {
        selected_name_ = guests_[index].name;
        pending_force_off_.clear();
        pending_remove_.clear();
        pending_adopt_.clear();
        dirty_ = true;
    }
}

std::optional<OverlayCommand> OverlayModel::action_on_selected(Action action, Clock::time_point now) {
    const GuestInfo* g = selected_guest();
    if (!g)
        return std::nullopt;
    bool allowed = action == Action::Start      ? can_start(*g)
                   : action == Action::Shutdown ? can_shutdown(*g)
                   : action == Action::ForceOff ? can_force_off(*g)
                   : action == Action::Eject    ? true // without media the agent says so
                                                : can_remove(*g);
    if (!allowed)
        return std::nullopt;
    if (action == Action::ForceOff || action == Action::Remove) {
        // Force off loses the guest's unsaved work, removing loses the guest and its disks: each
        // takes a second press to confirm.
        std::string& pending = action == Action::ForceOff ? pending_force_off_ : pending_remove_;
        Clock::time_point& since = action == Action::ForceOff ? pending_force_off_since_ : pending_remove_since_;
        bool confirmed = pending == g->name && now - since <= force_off_confirm_window;
        if (!confirmed) {
            pending = g->name;
            since = now;
            dirty_ = true;
            return std::nullopt;
        }
    }
    pending_force_off_.clear();
    pending_remove_.clear();
    dirty_ = true;
    return OverlayCommand{OverlayCommand::Kind::GuestAction, action, g->name};
}

std::optional<OverlayCommand> OverlayModel::adopt_selected(Clock::time_point now) {
    const GuestInfo* g = selected_guest();
    if (!g || !can_adopt(*g))
        return std::nullopt;
    // It rewrites the guest's definition: the user confirms with a second press.
    if (pending_adopt_ != g->name || now - pending_adopt_since_ > force_off_confirm_window) {
        pending_adopt_ = g->name;
        pending_adopt_since_ = now;
        dirty_ = true;
        return std::nullopt;
    }
    pending_adopt_.clear();
    dirty_ = true;
    return OverlayCommand{OverlayCommand::Kind::Adopt, Action::Start, g->name};
}

void OverlayModel::set_installers(std::vector<std::string> paths) {
    installers_ = std::move(paths);
    installer_selection_ = 0;
    choosing_installer_ = true;
    dirty_ = true;
}

void OverlayModel::open_card(std::string installer, std::string name) {
    card_.emplace(std::move(installer), std::move(name));
    choosing_installer_ = false;
    dirty_ = true;
}

void OverlayModel::set_card_plan(const std::string& installer, guestview::PlanView plan) {
    if (!card_ || card_->installer() != installer)
        return; // the user went back or picked another installer meanwhile
    card_->set_plan(std::move(plan));
    dirty_ = true;
}

void OverlayModel::close_card() {
    card_.reset();
    dirty_ = true;
}

std::optional<OverlayCommand> OverlayModel::card_key(Key key) {
    dirty_ = true;
    switch (key) {
    case Key::Up: card_->move_field(-1); break;
    case Key::Down: card_->move_field(1); break;
    case Key::Left: card_->adjust(-1); break;
    case Key::Right: card_->adjust(1); break;
    case Key::Cancel: // back to the installers
        card_.reset();
        choosing_installer_ = true;
        break;
    case Key::Enter:
        if (card_->blocker().empty())
            return OverlayCommand{OverlayCommand::Kind::CreateGuest, Action::Start, card_->installer()};
        break;
    default: break;
    }
    return std::nullopt;
}

std::optional<OverlayCommand> OverlayModel::on_key(Key key, Clock::time_point now, std::size_t app_index) {
    if (card_)
        return card_key(key);
    if (guest_card_)
        return guest_card_key(key, now);
    if (choosing_installer_) {
        switch (key) {
        case Key::Up:
            if (installer_selection_ > 0)
                --installer_selection_;
            break;
        case Key::Down:
            if (installer_selection_ + 1 < installers_.size())
                ++installer_selection_;
            break;
        case Key::Cancel:
            choosing_installer_ = false;
            break;
        case Key::Enter:
            choosing_installer_ = false;
            dirty_ = true;
            if (installer_selection_ < installers_.size())
                return OverlayCommand{OverlayCommand::Kind::PlanGuest, Action::Start, installers_[installer_selection_]};
            return std::nullopt;
        default:
            return std::nullopt;
        }
        dirty_ = true;
        return std::nullopt;
    }
    auto sel = selection();
    switch (key) {
    case Key::Up:
        if (sel && *sel > 0)
            select_index(*sel - 1);
        return std::nullopt;
    case Key::Down:
        if (sel)
            select_index(std::min(*sel + 1, guests_.size() - 1));
        return std::nullopt;
    case Key::Home:
        select_index(0);
        return std::nullopt;
    case Key::End:
        if (!guests_.empty())
            select_index(guests_.size() - 1);
        return std::nullopt;
    case Key::Enter: {
        const GuestInfo* g = selected_guest();
        if (!g)
            return std::nullopt;
        if (can_show(*g))
            return OverlayCommand{OverlayCommand::Kind::ShowGuest, Action::Start, g->name};
        if (can_start(*g))
            return action_on_selected(Action::Start, now);
        return std::nullopt;
    }
    case Key::Start: return action_on_selected(Action::Start, now);
    case Key::Shutdown: return action_on_selected(Action::Shutdown, now);
    case Key::ForceOff: return action_on_selected(Action::ForceOff, now);
    case Key::Remove: return action_on_selected(Action::Remove, now);
    case Key::Adopt: return adopt_selected(now);
    case Key::Eject: return action_on_selected(Action::Eject, now);
    case Key::NewGuest:
    case Key::Cancel: return std::nullopt; // the server lists installers, then set_installers()
    case Key::Left:
    case Key::Right: return std::nullopt; // only the new-guest card has values to change
    case Key::Duplicate:
    case Key::Snapshot:
    case Key::Backup:
    case Key::CancelJob:
    case Key::GuestCard:
    case Key::Usb: return job_key(key);
    case Key::App:
        if (app_index < apps_.size())
            return OverlayCommand{OverlayCommand::Kind::LaunchApp, Action::Start, std::to_string(app_index)};
        return std::nullopt;
    }
    return std::nullopt;
}

std::optional<OverlayCommand> OverlayModel::on_click(double x, double y, const OverlayHitMap& hits,
                                                     Clock::time_point now) {
    for (const auto& b : hits.buttons) {
        if (!b.rect.contains(x, y))
            continue;
        if (b.command.kind == OverlayCommand::Kind::Adopt) {
            for (std::size_t i = 0; i < guests_.size(); ++i)
                if (guests_[i].name == b.command.target)
                    select_index(i);
            return adopt_selected(now);
        }
        if (b.command.kind == OverlayCommand::Kind::GuestAction) {
            // Route through the selection so the same checks and confirmation apply.
            for (std::size_t i = 0; i < guests_.size(); ++i)
                if (guests_[i].name == b.command.target)
                    select_index(i);
            return action_on_selected(b.command.action, now);
        }
        if (b.command.kind == OverlayCommand::Kind::Usb) { // a device row: to the selected guest
            OverlayCommand c = b.command;
            const guestview::GuestInfo* g = selected_guest();
            c.target = g ? g->name : "";
            return c;
        }
        return b.command;
    }
    for (std::size_t i = 0; i < hits.rows.size() && i < guests_.size(); ++i) {
        if (hits.rows[i].contains(x, y)) {
            select_index(i);
            return std::nullopt;
        }
    }
    return std::nullopt;
}

bool OverlayModel::take_dirty() {
    return std::exchange(dirty_, false);
}

} // namespace phyllome::compositor
