// A Wayland client in the test process driving the shell's pointer through
// zwlr_virtual_pointer_v1 (wtype covers the keyboard; nothing installed covers the pointer).
// Every call waits for a round trip, so the shell has handled the event when it returns.
#pragma once

#include <cstdint>
#include <set>
#include <string>

struct wl_display;
struct wl_registry;
struct wl_proxy;

namespace phyllome::test {

// The globals the shell advertises, by interface name.
std::set<std::string> wayland_globals(const std::string& runtime_dir, const std::string& display = "wayland-0");
// The seat's capabilities (WL_SEAT_CAPABILITY_*) as a new client sees them, 0 without a seat.
std::uint32_t seat_capabilities(const std::string& runtime_dir, const std::string& display = "wayland-0");

class VirtualPointer {
public:
    VirtualPointer(const std::string& runtime_dir, const std::string& display = "wayland-0");
    ~VirtualPointer();
    VirtualPointer(const VirtualPointer&) = delete;
    VirtualPointer& operator=(const VirtualPointer&) = delete;

    // False when the shell has no virtual pointer manager (or no Wayland socket).
    bool ok() const { return pointer_ != nullptr; }

    void motion(double dx, double dy);
    void motion_absolute(std::uint32_t x, std::uint32_t y, std::uint32_t x_extent, std::uint32_t y_extent);
    void button(std::uint32_t evdev_button, bool pressed);
    // One wheel notch: vertical (down for +1) or horizontal (right for +1).
    void wheel(bool vertical, int notches);

private:
    void frame_and_sync();

    wl_display* display_ = nullptr;
    wl_registry* registry_ = nullptr;
    wl_proxy* manager_ = nullptr;
    wl_proxy* pointer_ = nullptr;
    std::uint32_t time_ms_ = 1;
};

} // namespace phyllome::test
