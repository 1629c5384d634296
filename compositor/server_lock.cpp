// The Server's screen lock: the locker it runs (Host+lock key, phyllomectl lock, the idle
// timeout), what locking and unlocking do to the rest of the shell (input released from the
// guest and given back, focus, cursor), and what the user is told when a locker fails.
#include <cctype>

#include <fmt/format.h>

#include "compositor/server.hpp"
#include "config/log.hpp"

namespace phyllome::compositor {
namespace {
constexpr int locker_deadline_ms = 10'000;
} // namespace

void Server::setup_lock() {
    lock_ = std::make_unique<SessionLock>(display(), seat(), SceneLayer{core_.lock_layer(), renderer(), &config()},
                                          outputs_, static_cast<SessionLockHost&>(*this));
    locker_ = std::make_unique<LockerProcess>(
        loop(), [this](int status, std::string how, bool had_locked) {
            locker_ended(status && !had_locked ? status : 0, std::move(how));
        });
    locker_timer_.reset(wl_event_loop_add_timer(
        loop(),
        [](void* data) {
            auto* self = static_cast<Server*>(data);
            if (!self->lock_->confirmed())
                self->lock_failed(fmt::format("it did not lock within {} s", locker_deadline_ms / 1000));
            return 0;
        },
        this));
    idle_ = std::make_unique<IdleWatch>(display(), seat(), [this] {
        if (lock_->engaged())
            return;
        log::info("lock: no input for {} s", idle_->timeout().count());
        start_locker("idle");
    });
    apply_idle_timeout();
}

void Server::teardown_lock() {
    // Before the clients go: a locker's disconnect at shutdown is no abandoned lock.
    locker_timer_.reset();
    lock_.reset();
    idle_.reset();
    locker_.reset();
}

void Server::apply_idle_timeout() {
    if (idle_)
        idle_->set_timeout(std::chrono::seconds(config().lock.effective_idle_timeout_s(kiosk_ != nullptr)));
}

LockedInput* Server::session_lock() { return lock_ && lock_->engaged() ? lock_.get() : nullptr; }

void Server::input_activity() {
    if (idle_)
        idle_->activity();
}

bool Server::lock_binding(xkb_keysym_t sym) {
    const std::string& key = config().lock.key;
    if (key.empty() ||
        xkb_keysym_to_lower(xkb_keysym_from_name(key.c_str(), XKB_KEYSYM_CASE_INSENSITIVE)) != xkb_keysym_to_lower(sym))
        return false;
    if (!lock_->has_locker()) // a live locker has the keys; a gone one is replaced
        start_locker("lock key");
    return true;
}

void Server::lock_session(commands::Reply reply) {
    if (lock_->confirmed()) {
        reply(true, "the session is already locked\n");
        return;
    }
    lock_replies_.push_back(std::move(reply));
    start_locker("phyllomectl lock");
}

void Server::start_locker(const char* why) {
    if (lock_->confirmed() || lock_->has_locker())
        return; // locked, or a locker is on its way: its outcome answers
    if (locker_->running()) {
        if (lock_->engaged()) // it let go of the lock but did not end
            log::warn("lock: the locker (pid {}) still runs without holding the lock; waiting for it to end",
                      locker_->pid());
        return;
    }
    const std::string& command = config().lock.command;
    std::string error;
    if (!locker_->start(command, error)) {
        lock_failed(fmt::format("cannot run '{}': {}", command, error));
        return;
    }
    log::info("lock: running '{}' (pid {}, {})", command, locker_->pid(), why);
    wl_event_source_timer_update(locker_timer_.get(), locker_deadline_ms);
}

void Server::locker_ended(int status, std::string how) {
    if (lock_->confirmed() || status == 0) {
        // After an unlock, or a crash the lock itself reports (status 0 then); a locker that exits
        // cleanly before locking (it may have forked) has the deadline.
        log::info("lock: the locker {}", how);
        return;
    }
    lock_failed(fmt::format("'{}' {} before it locked", config().lock.command, how));
}

void Server::lock_failed(const std::string& why) {
    wl_event_source_timer_update(locker_timer_.get(), 0);
    const bool blank = lock_->engaged(); // an earlier locker went away: still locked, without one
    const char* state = blank ? "the screen stays locked, blank" : "the screen is not locked";
    log::error("lock: the locker {}; {}", why, state);
    overlay_model_.set_notice(fmt::format("Cannot lock the screen: the locker {}", why), true);
    refresh_overlay();
    if (blank)
        lock_->set_message(fmt::format("{}\nThe locker {}", relock_hint(), why));
    for (auto& reply : std::exchange(lock_replies_, {}))
        reply(false, fmt::format("the locker {}; {}\n", why, state));
}

std::string Server::relock_hint() const {
    const std::string& key = config().lock.key;
    return key.empty() ? std::string("Locked. Run phyllomectl lock to start the locker again")
                       : fmt::format("Locked. Press {}+{} to start the locker again", host_key_label(),
                                     key.size() == 1 ? std::string(1, static_cast<char>(std::toupper(key[0]))) : key);
}

void Server::lock_engaged(bool engaged) {
    seat_->stop_key_repeat();
    GuestInput* guest = stage_ ? stage_->shown_input() : nullptr;
    if (engaged) {
        // Nothing the guest holds stays held while the user is away; nothing reaches it now.
        if (guest)
            guest->release_all();
        seat_->clear_focus();
        if (sound_) // nobody is there to know the microphone is live
            sound_->microphone_off();
        log::info("lock: the session is locked");
    } else {
        wl_event_source_timer_update(locker_timer_.get(), 0);
        if (XdgView* view = front_window())
            view->set_shown(true); // the keyboard back to the window at the front
        if (guest)
            seat_->guest_unlocked(*guest);
        idle_->restart();
        log::info("lock: the session is unlocked, showing {}",
                  guest ? guest->guest() : front_window() ? "a host window" : "the overlay");
    }
    seat_->update_cursor_image();
    present_now();
}

void Server::lock_confirmed() {
    wl_event_source_timer_update(locker_timer_.get(), 0);
    locker_->note_locked();
    for (auto& reply : std::exchange(lock_replies_, {}))
        reply(true, "locked\n");
}

void Server::locker_lost() {
    log::warn("lock: the session stays locked; {}", relock_hint());
    lock_->set_message(relock_hint());
}

void Server::fill_lock_status(StatusSnapshot& s) const {
    s.locked = lock_ && lock_->engaged();
    if (lock_)
        if (auto pid = lock_->locker_pid())
            s.locker_pid = static_cast<int>(*pid);
    s.idle_timeout_s = idle_ ? static_cast<int>(idle_->timeout().count()) : 0;
}

} // namespace phyllome::compositor
