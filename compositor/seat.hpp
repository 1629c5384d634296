// The seat (as cage's cg_seat and labwc's struct seat): input devices, the cursor, the user's
// keymap, and where each key press, pointer motion, click and touch goes: Host+key chords to
// the shell before anything else, then the host application's window or the guest at the front
// (and only it), else the overlay. What is shown is the InputTarget's to say.
#pragma once

#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <optional>
#include <vector>

#include "compositor/guest_input.hpp"
#include "compositor/key_repeater.hpp"
#include "compositor/keysym_to_evdev.hpp"
#include "compositor/listener.hpp"
#include "compositor/startup_warmup.hpp"
#include "compositor/wlr.hpp"
#include "config/config.hpp"

namespace phyllome::compositor {

class Keyboard;

// While the session is locked, every key, motion and click goes to the locker and nowhere else.
class LockedInput {
public:
    virtual ~LockedInput() = default;
    // The locker's surface that takes the keys, or null (none mapped yet, or the locker is gone).
    virtual wlr_surface* keyboard_surface() const = 0;
    // The locker's surface at layout (lx, ly), with surface-local (sx, sy), or null.
    virtual wlr_surface* surface_at(double lx, double ly, double& sx, double& sy) const = 0;
};

// What the seat delivers input to.
class InputTarget {
public:
    virtual ~InputTarget() = default;
    // The surface of the host application's window at the front (keys and clicks go to it as a
    // Wayland client), or null.
    virtual wlr_surface* host_window() const = 0;
    // The guest on screen, or null while the overlay is shown.
    virtual GuestInput* shown_guest_input() = 0;
    // A key pressed while the host key is held; true if it was a shell binding.
    virtual bool host_binding(xkb_keysym_t sym) = 0;
    virtual void overlay_key(xkb_keysym_t sym, std::uint32_t modifiers) = 0;
    // A click or touch at layout coordinates while the overlay is shown.
    virtual void overlay_click(double lx, double ly) = 0;
    // Ctrl+Alt+Fn may switch virtual terminals (not in a locked kiosk).
    virtual bool vt_switch_allowed() const = 0;
    // The session lock while it is engaged, else null: it comes before everything above.
    virtual LockedInput* session_lock() { return nullptr; }
    // Any input event: the user is here (idle timers start over).
    virtual void input_activity() {}
};

struct SeatParts {
    wl_display* display = nullptr;
    wlr_backend* backend = nullptr;
    wlr_session* session = nullptr;       // for Ctrl+Alt+Fn; null unless on a VT
    wlr_output_layout* output_layout = nullptr;
    wlr_scene_tree* view_layer = nullptr; // host application windows, for hit tests
    StartupWarmup* warmup = nullptr;      // keymap and cursor theme prepared off the main thread
};

class Seat {
public:
    // `config` is the server's, read again at every apply_config().
    Seat(const SeatParts& parts, const config::Config& config, InputTarget& target);
    ~Seat();
    Seat(const Seat&) = delete;
    Seat& operator=(const Seat&) = delete;

    wlr_seat* wlr() const { return seat_; }
    double x() const { return cursor_->x; }
    double y() const { return cursor_->y; }

    // The config was reloaded: host key, repeat, keymap, pointer settings.
    void apply_config();
    // What is shown changed: the host pointer image follows (none over a guest: it draws its own).
    void update_cursor_image();
    // A guest came to the front: its lock keys follow the host, and it gets the modifiers held now.
    void guest_shown(GuestInput& guest);
    // The shown guest leaves the front: nothing keeps repeating into it.
    void stop_key_repeat() { key_repeater_->stop(); }
    void clear_focus();
    // The session was unlocked with `guest` shown: its lock keys follow the host again (keys
    // pressed while locked stay the locker's, their releases too).
    void guest_unlocked(GuestInput& guest) { sync_guest_locks(guest); }
    // The shown guest's keyboard LEDs now (seat_leds.cpp): the host's lock keys follow a change.
    void guest_leds_changed(std::uint32_t leds);
    // Caps, Num and Scroll Lock as the host has them.
    LockKeys host_locks() const { return locks_; }

    // For Keyboard.
    xkb_keymap* keymap();
    bool is_virtual_keyboard(wlr_input_device* device) const;
    void remove_keyboard(Keyboard& keyboard);
    void handle_key(wlr_input_device* device, wlr_keyboard_key_event* event);

private:
    void on_new_input(wlr_input_device* device, bool is_virtual = false);
    void add_pointer(wlr_input_device* device);
    void add_touch(wlr_input_device* device);
    void update_capabilities();
    void on_cursor_motion(std::uint32_t time_msec, double dx, double dy);
    void on_cursor_button(wlr_pointer_button_event* event);
    void on_cursor_axis(wlr_pointer_axis_event* event);
    void on_touch_down(wlr_touch_down_event* event);
    void on_touch_motion(wlr_touch_motion_event* event);
    wlr_surface* view_surface_at(double lx, double ly, double& sx, double& sy) const;
    bool handle_vt_switch(xkb_keysym_t sym);
    static xkb_keysym_t binding_sym(wlr_keyboard* kb, std::uint32_t xkb_code);
    // The guest's lock keys follow the host's.
    void sync_guest_locks(GuestInput& guest);
    void note_lock_key(const xkb_keysym_t* syms, int nsyms);
    // The keyboard's Caps and Num Lock (and so its lights) as the host has them.
    void set_keyboard_locks(wlr_keyboard* kb) const;
    void guest_key(std::uint32_t keycode, bool pressed);
    // Routing while the session is locked (seat_locked.cpp); true when the event was taken.
    bool locked_key(wlr_keyboard* kb, wlr_keyboard_key_event* event);
    bool locked_pointer_motion(std::uint32_t time_msec);
    bool locked_pointer_event(const std::function<void()>& deliver);
    bool locked_touch(double lx, double ly, const std::function<void(wlr_surface*, double, double)>& deliver);
    void send_held_modifiers(GuestInput& guest);
    void read_host_key();
    wlr_xcursor_manager* cursor_theme();
    // Keysyms to evdev codes in the user's layout, for virtual keyboards' keys into guests.
    const KeysymToEvdev* keysym_table();

    SeatParts parts_;
    const config::Config& config_;
    InputTarget& target_;
    wlr_seat* seat_ = nullptr;
    wlr_cursor* cursor_ = nullptr;
    CursorThemePtr cursor_theme_; // read on first use (the first pointer)
    KeymapPtr keymap_;            // the user's layout, compiled once per config for every keyboard
    std::unique_ptr<KeysymToEvdev> keysym_to_evdev_;

    std::list<std::unique_ptr<Keyboard>> keyboards_;
    std::vector<wlr_input_device*> virtual_keyboards_;
    struct TrackedDevice {
        wlr_input_device* device = nullptr;
        Listener<void> destroy;
    };
    void track_device(std::list<std::unique_ptr<TrackedDevice>>& list, wlr_input_device* device);
    std::list<std::unique_ptr<TrackedDevice>> pointers_;
    std::list<std::unique_ptr<TrackedDevice>> touch_devices_;

    bool host_key_down_ = false;
    xkb_keysym_t host_keysym_ = XKB_KEY_Control_R;
    std::vector<std::uint32_t> host_combo_keys_; // keys pressed as part of a host binding
    std::vector<std::uint32_t> lock_keys_;       // keys pressed while locked: theirs until released
    std::unique_ptr<KeyRepeater> key_repeater_;
    LockKeys locks_; // the host's: every real keyboard shows them
    std::optional<std::uint32_t> shown_guest_leds_; // as last seen: only a change moves the host's

    Listener<wlr_input_device> new_input_;
    Listener<wlr_pointer_motion_event> cursor_motion_;
    Listener<wlr_pointer_motion_absolute_event> cursor_motion_absolute_;
    Listener<wlr_pointer_button_event> cursor_button_;
    Listener<wlr_pointer_axis_event> cursor_axis_;
    Listener<void> cursor_frame_;
    Listener<wlr_touch_down_event> touch_down_;
    Listener<wlr_touch_up_event> touch_up_;
    Listener<wlr_touch_motion_event> touch_motion_;
    Listener<wlr_seat_pointer_request_set_cursor_event> request_set_cursor_;
    Listener<wlr_virtual_keyboard_v1> new_virtual_keyboard_;
    Listener<wlr_virtual_pointer_v1_new_pointer_event> new_virtual_pointer_;
};

} // namespace phyllome::compositor
