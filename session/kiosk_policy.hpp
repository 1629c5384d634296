// Kiosk mode: one guest, started when off, brought back when it stops. Pure decisions over
// time and guest state, so every case is unit-tested without libvirt or a display.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "config/config.hpp"
#include "guestview/guest_inventory.hpp"

namespace phyllome::session {

class KioskPolicy {
public:
    using Clock = std::chrono::steady_clock;

    struct Decision {
        enum class Kind { Nothing, Start, ShowOverlay, Exit };
        Kind kind = Kind::Nothing;
        // For Start: when. The caller arms a timer and calls on_timer() then.
        std::chrono::milliseconds delay{0};
    };

    KioskPolicy(std::string guest, config::GuestExitPolicy policy, std::chrono::milliseconds first_delay,
                std::chrono::milliseconds max_delay);

    const std::string& guest() const { return guest_; }

    // Every inventory change. `info` is null when the guest is unknown or libvirt unreachable.
    Decision on_inventory(const guestview::GuestInfo* info, bool connected, Clock::time_point now);
    // The restart timer fired.
    Decision on_timer(Clock::time_point now);
    // The guest's first frame is on screen: the "Starting…" screen goes.
    void on_first_frame(Clock::time_point now);
    // A start request failed.
    Decision on_start_failed(const std::string& error, Clock::time_point now);

    // What the screen says while the guest is not on it; empty when the guest is shown.
    std::string message(Clock::time_point now) const;
    bool showing_guest() const { return phase_ == Phase::Shown; }
    int crashes_in_a_row() const { return crashes_in_a_row_; }
    // When a pending restart is due (nullopt: none pending).
    std::optional<Clock::time_point> restart_at() const { return restart_at_; }

    // A guest that ran this long is healthy again: its next crash starts from the first delay.
    static constexpr std::chrono::seconds healthy_after{60};

private:
    enum class Phase { Waiting, Starting, Shown, Stopped, Gone };
    Decision stopped(std::string why, bool crashed, Clock::time_point now);

    std::string guest_;
    config::GuestExitPolicy policy_;
    std::chrono::milliseconds first_delay_, max_delay_;
    Phase phase_ = Phase::Waiting;
    std::string last_reason_;
    int crashes_in_a_row_ = 0;
    std::optional<Clock::time_point> restart_at_;
    std::optional<Clock::time_point> shown_since_;
    bool start_requested_ = false;
};

} // namespace phyllome::session
