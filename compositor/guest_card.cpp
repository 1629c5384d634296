#include "compositor/guest_card.hpp"

#include <algorithm>
#include <ctime>

#include <fmt/format.h>

namespace phyllome::compositor {
namespace {

using Kind = GuestCard::Row::Kind;
constexpr auto delete_confirm_window = std::chrono::seconds(4);

std::string free_name(const std::string& base, const std::vector<std::string>& taken) {
    std::string name = base;
    for (int n = 2; std::ranges::find(taken, name) != taken.end(); ++n)
        name = fmt::format("{}-{}", base, n);
    return name;
}

std::string leaf(const std::string& path) {
    const auto slash = path.rfind('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

} // namespace

std::string GuestCard::when(std::int64_t unix_seconds) {
    const std::time_t t = static_cast<std::time_t>(unix_seconds);
    std::tm local{};
    if (localtime_r(&t, &local) == nullptr)
        return "?";
    char text[32];
    std::strftime(text, sizeof text, "%e %b %H:%M", &local);
    std::string out = text;
    return out.starts_with(' ') ? out.substr(1) : out;
}

GuestCard::GuestCard(const guestview::GuestInfo& guest, Places places) : guest_(guest.name), places_(std::move(places)) {
    // Named by the minute it was opened: a second export does not meet the first one's file.
    const std::time_t now = std::time(nullptr);
    std::tm local{};
    char stamp[32] = "export";
    if (localtime_r(&now, &local) != nullptr)
        std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M", &local);
    export_file_ = fmt::format("{}/{}-{}.phyllome", places_.backup_dir, guest_, stamp);
    rebuild(guest);
}

void GuestCard::update(const guestview::GuestInfo& guest) {
    const std::optional<Row> was = selection_ < rows_.size() ? std::optional<Row>(rows_[selection_]) : std::nullopt;
    rebuild(guest);
    if (was)
        if (auto it = std::ranges::find(rows_, *was); it != rows_.end())
            selection_ = static_cast<std::size_t>(it - rows_.begin());
    selection_ = std::min(selection_, rows_.empty() ? 0 : rows_.size() - 1);
}

void GuestCard::rebuild(const guestview::GuestInfo& guest) {
    running_ = guest.state == guestview::GuestState::Running || guest.state == guestview::GuestState::Paused;
    rows_.clear();
    rows_.push_back({Kind::TakeSnapshot, "Take a snapshot",
                     running_ ? "with its memory: a revert brings it back running" : "of its disks and firmware", {}});
    for (const auto& snap : guest.snapshots)
        rows_.push_back({Kind::Snapshot, fmt::format("Revert to “{}”", snap.name),
                         fmt::format("{} · {}{}", when(snap.created), snap.with_memory ? "running" : "shut off",
                                     snap.current ? " · current" : ""),
                         snap.name});
    rows_.push_back({Kind::BackUp, "Back up now", places_.backup_dir, {}});
    for (const auto& folder : places_.backups)
        rows_.push_back({Kind::Restore, fmt::format("Restore {} beside it", leaf(folder)), folder, folder});
    rows_.push_back({Kind::Export, "Export to one file", export_file_, {}});
    for (const auto& uri : places_.destinations)
        rows_.push_back({Kind::Move, fmt::format("Move to {}", uri), running_ ? "live, its disks copied" : "it must be running", uri});
    for (const auto& device : places_.usb_devices) {
        const auto* choice = remembered(guest, device);
        const std::string name = device.name();
        rows_.push_back({Kind::UsbChoice,
                         !choice          ? fmt::format("{}: offered, Host+U gives it", name)
                         : choice->always ? fmt::format("{}: always given to {}", name, guest_)
                                          : fmt::format("{}: never offered to {}", name, guest_),
                         !choice          ? fmt::format("Enter: give it to {} whenever both are here", guest_)
                         : choice->always ? "Enter: never offer it"
                                          : "Enter: forget, offer it again",
                         device.sysname,
                         choice ? std::optional(choice->always ? UsbRemember::Always : UsbRemember::Never)
                                : std::nullopt});
    }
}

const guestview::usb::UsbChoice* GuestCard::remembered(const guestview::GuestInfo& guest,
                                                       const guestview::usb::UsbDevice& device) {
    auto it = std::ranges::find_if(guest.usb_choices, [&](const auto& c) { return c.match.matches(device); });
    return it == guest.usb_choices.end() ? nullptr : &*it;
}

std::optional<GuestCard::UsbChange> GuestCard::usb_enter() const {
    if (selection_ >= rows_.size() || rows_[selection_].kind != Kind::UsbChoice)
        return std::nullopt;
    const Row& row = rows_[selection_];
    const UsbRemember what = !row.remembered                         ? UsbRemember::Always
                             : *row.remembered == UsbRemember::Always ? UsbRemember::Never
                                                                      : UsbRemember::Forget;
    return UsbChange{row.value, what};
}

void GuestCard::move(int direction) {
    if (rows_.empty())
        return;
    if (direction < 0 && selection_ > 0)
        --selection_;
    else if (direction > 0 && selection_ + 1 < rows_.size())
        ++selection_;
    pending_delete_.clear();
}

std::optional<guestview::JobRequest> GuestCard::enter() const {
    if (selection_ >= rows_.size())
        return std::nullopt;
    const Row& row = rows_[selection_];
    using guestview::JobKind;
    switch (row.kind) {
    case Kind::TakeSnapshot: return guestview::JobRequest{JobKind::SnapshotTake, guest_, {}, {}, false};
    case Kind::Snapshot: return guestview::JobRequest{JobKind::SnapshotRevert, guest_, row.value, {}, false};
    case Kind::BackUp: return guestview::JobRequest{JobKind::Backup, guest_, places_.backup_dir, {}, false};
    case Kind::Restore:
        return guestview::JobRequest{JobKind::Restore, {}, free_name(guest_ + "-restored", places_.guest_names), row.value, false};
    case Kind::Export: return guestview::JobRequest{JobKind::Export, guest_, row.detail, {}, false};
    case Kind::Move: return guestview::JobRequest{JobKind::Move, guest_, row.value, {}, false};
    case Kind::UsbChoice: return std::nullopt; // usb_enter()
    }
    return std::nullopt;
}

std::optional<guestview::JobRequest> GuestCard::remove(Clock::time_point now) {
    if (selection_ >= rows_.size() || rows_[selection_].kind != Kind::Snapshot)
        return std::nullopt;
    const std::string& name = rows_[selection_].value;
    if (pending_delete_ == name && now - pending_since_ <= delete_confirm_window) {
        pending_delete_.clear();
        return guestview::JobRequest{guestview::JobKind::SnapshotDelete, guest_, name, {}, false};
    }
    pending_delete_ = name;
    pending_since_ = now;
    return std::nullopt;
}

} // namespace phyllome::compositor
