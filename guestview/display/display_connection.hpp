// A client of QEMU's org.qemu.Display1 D-Bus display (p2p) for one guest.
//
// THREADING: everything runs on the wl_event_loop passed in, on the thread that
// dispatches it; no method may be called from another thread. Single-threaded on
// purpose: frames stay zero-copy (a Scanout frame *is* the received sd_bus_message,
// and sd-bus objects may only be touched by one thread), there is no hand-over queue
// to bound, and the loop services every listener socket as soon as it is readable,
// which QEMU needs (it blocks on registration and, in 7.2, buffers without limit).
// Decoding a full Scanout copies nothing; the first Update after it copies the surface
// once into an owned buffer, later Updates copy only their rectangle.
//
// OWNERSHIP of frames: FrameEvent::frame is a shared_ptr<const Frame>. Hold it as long as
// your wlr_buffer wraps Frame::pixels() (or the dmabuf fd); the pixels stay valid until
// the last reference goes, even after this connection is destroyed. Width, height,
// stride, format and storage of a Frame never change. Pixels of an OwnedBuffer frame are
// rewritten in place by later Updates of the same buffer (FrameEvent::new_buffer false);
// FrameEvent::damage says where, so re-upload or re-damage that rectangle. Frames must be
// released on the loop thread (a message-backed frame unrefs an sd_bus_message).
// For dmabuf updates keep FrameEvent::sampling_done until you finished sampling; QEMU
// blocks guest rendering until then (guestview answers by itself after 100 ms).
//
// CALLBACKS run inside loop dispatch. Do not destroy the DisplayConnection from them,
// except from `disconnected` with display_gone set (it is the last thing a dispatch does).
// Listener sockets are drained whether or not the guest is visible; drop frames you do
// not show instead of pausing the connection.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "guestview/display/clipboard_types.hpp"
#include "guestview/display/frame.hpp"

struct wl_event_loop;

namespace phyllome::guestview {

struct VmInfo {
    std::string name;
    std::vector<std::uint32_t> console_ids;
};

// Keyboard LED bits of ConsoleInfo::keyboard_modifiers.
inline constexpr std::uint32_t led_scroll_lock = 1u << 0;
inline constexpr std::uint32_t led_num_lock = 1u << 1;
inline constexpr std::uint32_t led_caps_lock = 1u << 2;

struct ConsoleInfo {
    std::uint32_t id = 0;
    std::string type;  // "Graphic" or "Text"
    std::string label; // e.g. "virtio-gpu-pci"
    std::uint32_t head = 0;           // among its device's heads
    std::string device_address;       // e.g. "pci/0000/01.0": which device the console belongs to
    std::uint32_t width = 0; // the console's current surface, guest pixels
    std::uint32_t height = 0;
    bool mouse_is_absolute = false;      // Mouse.IsAbsolute: use pointer_absolute, else pointer_relative
    std::uint32_t keyboard_modifiers = 0; // Keyboard.Modifiers: guest LEDs (led_* bits)
    bool lists_interfaces = false;       // has the Interfaces property: QEMU 8.1 or later
    bool graphic() const { return type == "Graphic"; }
};

struct Disconnect {
    // nullopt: the main connection (input, properties) closed, e.g. QEMU exited or another
    // client attached and replaced us; listeners may still deliver frames. Otherwise the
    // listener of that console closed.
    std::optional<std::uint32_t> console;
    std::string reason;
    bool display_gone = false; // no connection to this guest is left
};

struct DisplayCallbacks {
    std::function<void(const VmInfo&)> ready;                    // VM properties read
    std::function<void(const ConsoleInfo&)> console_changed;     // first read and every property change
    std::function<void(std::uint32_t console, const FrameEvent&)> frame;
    std::function<void(std::uint32_t console)> display_off;      // Disable: show nothing until the next frame
    std::function<void(std::uint32_t console, const CursorShape&)> cursor;
    std::function<void(std::uint32_t console, const PointerPosition&)> pointer;
    std::function<void(const Disconnect&)> disconnected;
};

// QEMU InputButton numbers (qapi/ui.json). 7.2 knows 0..8 and aborts on anything else.
enum class MouseButton : std::uint32_t {
    Left = 0, Middle = 1, Right = 2, WheelUp = 3, WheelDown = 4, Side = 5, Extra = 6, WheelLeft = 7, WheelRight = 8,
};
inline constexpr std::uint32_t max_mouse_button = 8;

// Fire-and-forget input calls and what became of them.
struct InputStats {
    std::uint64_t sent = 0;
    std::uint64_t acknowledged = 0; // QEMU answered with success
    std::uint64_t failed = 0;       // QEMU answered with an error (logged)
};

class DisplayConnection {
public:
    // `socket_fd` is a connected p2p socket to QEMU (virDomainOpenGraphicsFD); ownership
    // passes to the connection in every case. `guest_name` names the guest in logs.
    static std::unique_ptr<DisplayConnection> from_fd(wl_event_loop* loop, int socket_fd, std::string guest_name,
                                                      DisplayCallbacks callbacks, std::string& error);
    // `address` is a p2p D-Bus address, "unix:path=..." or "unix:abstract=..." (a test peer,
    // `--display NAME=unix:path=...`).
    static std::unique_ptr<DisplayConnection> connect(wl_event_loop* loop, std::string_view address,
                                                      std::string guest_name, DisplayCallbacks callbacks,
                                                      std::string& error);
    ~DisplayConnection();
    DisplayConnection(const DisplayConnection&) = delete;
    DisplayConnection& operator=(const DisplayConnection&) = delete;

    const std::string& guest_name() const;
    const VmInfo& vm() const;
    const ConsoleInfo* console(std::uint32_t id) const;
    bool main_connected() const;
    // nullptr before the first frame and after Disable.
    std::shared_ptr<const Frame> current_frame(std::uint32_t console) const;
    // Adds every frame this connection keeps, on all consoles (for memory accounting).
    void collect_frames(std::vector<const Frame*>& out) const;
    FrameStats stats(std::uint32_t console) const;

    // Input for a console; fire-and-forget, failures are logged. Ignored when the main
    // connection is gone.
    void key(std::uint32_t console, std::uint32_t qnum, bool pressed);
    // Guest pixels, clamped to the console surface (QEMU refuses positions outside it).
    void pointer_absolute(std::uint32_t console, std::uint32_t x, std::uint32_t y);
    void pointer_relative(std::uint32_t console, std::int32_t dx, std::int32_t dy);
    // Buttons above max_mouse_button are clamped to it (QEMU 7.2 aborts on unknown ones).
    void button(std::uint32_t console, std::uint32_t button, bool pressed);
    void button(std::uint32_t console, MouseButton b, bool pressed) { button(console, static_cast<std::uint32_t>(b), pressed); }
    // One wheel notch: press + release of WheelUp/WheelDown/WheelLeft/WheelRight.
    void wheel(std::uint32_t console, MouseButton direction);
    // Ask the guest for a mode (virtio-gpu only; others answer Unsupported, which is
    // remembered and logged once). Call on output mode changes, not on every resize step.
    void set_ui_info(std::uint32_t console, std::uint16_t width_mm, std::uint16_t height_mm, std::uint32_t width,
                     std::uint32_t height);
    // Releases every key and button we pressed and did not release (switching away).
    void release_all_input(std::uint32_t console);
    std::set<std::uint32_t> held_keys(std::uint32_t console) const;
    std::set<std::uint32_t> held_buttons(std::uint32_t console) const;
    InputStats input_stats() const;
    // Hands QEMU a listener socket on the main connection (Audio.RegisterOutListener and the
    // like); `done` gets "" or the error, also when the connection closes first; never once this
    // object is destroyed. Ignored (no `done`) when the main connection is gone.
    void register_listener_fd(const char* path, const char* interface, const char* method, int fd,
                              std::function<void(std::string error)> done);

    // The guest's clipboard, moved only on these calls (display_clipboard.hpp). Take: the guest's
    // text if it copied some, at most `max_bytes`. Offer: the guest may paste `text` with its own keys.
    void take_clipboard(std::size_t max_bytes, ClipboardDone done);
    void offer_clipboard(std::string text, ClipboardDone done);
    ClipboardState clipboard_state() const;

    class Impl; // display_connection_impl.hpp
    explicit DisplayConnection(std::unique_ptr<Impl> impl);

private:
    std::unique_ptr<Impl> impl_;
};

} // namespace phyllome::guestview
