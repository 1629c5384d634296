// The session lock (ext-session-lock-v1, as sway's lock.c and labwc's session-lock.c): when a
// locker (swaylock) locks, an opaque black rectangle covers every output in the topmost scene
// layer, the locker's surface goes on it, one per output at the output's size, and `locked` is
// sent once every output has presented a picture with the blank (its present event). Input then goes to the locker only (the Seat asks
// LockedInput). A locker that goes away without unlocking leaves the session locked, with a
// short message on the blank, until a new locker locks and unlocks.
#pragma once

#include <list>
#include <memory>
#include <optional>
#include <string>

#include <sys/types.h>

#include "compositor/listener.hpp"
#include "compositor/output.hpp"
#include "compositor/scene_layer.hpp"
#include "compositor/seat.hpp"
#include "compositor/wlr.hpp"
#include "guestview/event_source.hpp"

namespace phyllome::compositor {

// What the lock tells the rest of the shell.
class SessionLockHost {
public:
    virtual ~SessionLockHost() = default;
    // The blank went up over everything (true), or came down on unlock (false).
    virtual void lock_engaged(bool engaged) = 0;
    // The locker was told the session is locked.
    virtual void lock_confirmed() = 0;
    // The locker went away without unlocking: the session stays locked.
    virtual void locker_lost() = 0;
};

class SessionLock : public LockedInput {
public:
    // `layer` is WlrCore's lock layer; `outputs` the shell's, read when the lock begins.
    SessionLock(wl_display* display, wlr_seat* seat, const SceneLayer& layer,
                const std::list<std::unique_ptr<Output>>& outputs, SessionLockHost& host);
    ~SessionLock() override;
    SessionLock(const SessionLock&) = delete;
    SessionLock& operator=(const SessionLock&) = delete;

    bool engaged() const { return engaged_; }
    // A locker holds the lock and was told it is locked.
    bool confirmed() const { return client_ && sent_locked_; }
    bool has_locker() const { return client_ != nullptr; }
    // The locker's process, from its Wayland connection.
    std::optional<pid_t> locker_pid() const;
    // Shown in the middle of every output's blank while no locker holds the lock.
    void set_message(std::string text);

    void output_added(Output& output);
    void output_removed(Output& output);
    // A commit with a new picture: from now on the output's pictures hold the blank.
    void output_committed(Output& output);
    // Outputs moved or changed size: the blank and the locker's surfaces follow.
    void relayout();

    // LockedInput
    wlr_surface* keyboard_surface() const override;
    wlr_surface* surface_at(double lx, double ly, double& sx, double& sy) const override;

private:
    struct Screen; // one output's blank and locker surface
    void on_new_lock(wlr_session_lock_v1* lock);
    void on_new_surface(wlr_session_lock_surface_v1* surface);
    void on_unlock();
    void on_abandoned();
    void engage();
    void confirm_when_shown();
    void send_locked(const char* why);
    void disconnect_client();
    Screen* screen_for(const wlr_output* output);
    void place(Screen& screen);
    void paint_message(Screen& screen);

    wlr_seat* seat_;
    SceneLayer layer_;
    const std::list<std::unique_ptr<Output>>& outputs_;
    SessionLockHost& host_;
    bool engaged_ = false;
    wlr_session_lock_v1* client_ = nullptr;
    bool sent_locked_ = false;
    std::string message_;
    std::list<std::unique_ptr<Screen>> screens_;
    // An output that never presents must not keep the locker waiting for ever.
    guestview::EventSourcePtr confirm_timer_;

    Listener<wlr_session_lock_v1> new_lock_;
    Listener<void> manager_destroy_;
    Listener<wlr_session_lock_surface_v1> client_new_surface_;
    Listener<void> client_unlock_;
    Listener<void> client_destroy_;
};

} // namespace phyllome::compositor
