#include "session/kiosk_policy.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace phyllome::session {

using guestview::GuestState;
using Kind = KioskPolicy::Decision::Kind;

KioskPolicy::KioskPolicy(std::string guest, config::GuestExitPolicy policy, std::chrono::milliseconds first_delay,
                         std::chrono::milliseconds max_delay)
    : guest_(std::move(guest)), policy_(policy), first_delay_(first_delay), max_delay_(std::max(max_delay, first_delay)) {}

KioskPolicy::Decision KioskPolicy::on_inventory(const guestview::GuestInfo* info, bool connected,
                                                Clock::time_point now) {
    if (!connected)
        return {}; // libvirt comes back by itself; decide then
    if (!info) {
        phase_ = Phase::Gone;
        last_reason_ = fmt::format("There is no guest named '{}'.", guest_);
        return {};
    }
    const bool runs = info->state == GuestState::Running || info->state == GuestState::Paused ||
                      info->state == GuestState::ShuttingDown || info->state == GuestState::Suspended;
    if (runs) {
        if (phase_ != Phase::Shown)
            phase_ = Phase::Starting;
        start_requested_ = false;
        restart_at_.reset();
        return {};
    }
    // Not running.
    if (phase_ == Phase::Shown || (phase_ == Phase::Starting && !start_requested_)) {
        const bool crashed = info->state == GuestState::Crashed ||
                             info->state_reason.find("crashed") != std::string::npos ||
                             info->state_reason.find("failed") != std::string::npos;
        std::string why = info->state_reason.empty() ? std::string(guestview::to_string(info->state))
                                                     : info->state_reason;
        return stopped(std::move(why), crashed, now);
    }
    if (phase_ == Phase::Waiting || phase_ == Phase::Gone) {
        // First sight of the guest, off: start it now.
        phase_ = Phase::Starting;
        start_requested_ = true;
        return {Kind::Start, std::chrono::milliseconds(0)};
    }
    return {};
}

KioskPolicy::Decision KioskPolicy::stopped(std::string why, bool crashed, Clock::time_point now) {
    const bool was_healthy = shown_since_ && now - *shown_since_ >= healthy_after;
    shown_since_.reset();
    // libvirt says "shut off: crashed"; "NAME stopped: crashed" reads better.
    if (why.starts_with("shut off: "))
        why.erase(0, 10);
    last_reason_ = std::move(why);
    crashes_in_a_row_ = crashed ? (was_healthy ? 1 : crashes_in_a_row_ + 1) : 0;
    phase_ = Phase::Stopped;
    switch (policy_) {
    case config::GuestExitPolicy::Exit: return {Kind::Exit, {}};
    case config::GuestExitPolicy::Overlay: return {Kind::ShowOverlay, {}};
    case config::GuestExitPolicy::Restart: break;
    }
    // A clean shutdown restarts at once; crashes in a row back off so a broken guest cannot spin.
    std::chrono::milliseconds delay{0};
    if (crashes_in_a_row_ > 0) {
        delay = first_delay_;
        for (int i = 1; i < crashes_in_a_row_ && delay < max_delay_; ++i)
            delay *= 2;
        delay = std::min(delay, max_delay_);
    }
    restart_at_ = now + delay;
    return {Kind::Start, delay};
}

KioskPolicy::Decision KioskPolicy::on_timer(Clock::time_point now) {
    if (phase_ != Phase::Stopped || !restart_at_ || now < *restart_at_)
        return {};
    restart_at_.reset();
    phase_ = Phase::Starting;
    start_requested_ = true;
    return {Kind::Start, std::chrono::milliseconds(0)};
}

void KioskPolicy::on_first_frame(Clock::time_point now) {
    if (phase_ == Phase::Shown)
        return;
    phase_ = Phase::Shown;
    shown_since_ = now;
}

KioskPolicy::Decision KioskPolicy::on_start_failed(const std::string& error, Clock::time_point now) {
    start_requested_ = false;
    phase_ = Phase::Shown; // so stopped() treats it like a crash of a running guest
    shown_since_.reset();
    return stopped(fmt::format("could not start: {}", error), true, now);
}

std::string KioskPolicy::message(Clock::time_point now) const {
    switch (phase_) {
    case Phase::Shown: return {};
    case Phase::Waiting: return fmt::format("Starting {}…", guest_);
    case Phase::Starting: return fmt::format("Starting {}…", guest_);
    case Phase::Gone: return last_reason_;
    case Phase::Stopped: break;
    }
    std::string text = fmt::format("{} stopped: {}", guest_, last_reason_);
    if (restart_at_) {
        const auto left = std::chrono::duration_cast<std::chrono::seconds>(*restart_at_ - now + std::chrono::milliseconds(999));
        text += left.count() > 0 ? fmt::format(". Restarting in {} s…", left.count()) : ". Restarting…";
    }
    return text;
}

} // namespace phyllome::session
