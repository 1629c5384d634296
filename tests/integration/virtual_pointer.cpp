#include "virtual_pointer.hpp"

#include <cstdlib>
#include <cstring>

#include <wayland-client.h>

namespace phyllome::test {
namespace {

// The wlr-virtual-pointer-unstable-v1 interfaces (version 2), described by hand: the protocol
// XML is not installed on Debian 12, and these few requests are all a test needs.
extern const wl_interface virtual_pointer_interface;

const wl_interface* no_types[] = {nullptr, nullptr, nullptr, nullptr, nullptr};
const wl_interface* create_types[] = {&wl_seat_interface, &virtual_pointer_interface};
const wl_interface* create_with_output_types[] = {&wl_seat_interface, &wl_output_interface, &virtual_pointer_interface};

const wl_message pointer_requests[] = {
    {"motion", "uff", no_types},
    {"motion_absolute", "uuuuu", no_types},
    {"button", "uuu", no_types},
    {"axis", "uuf", no_types},
    {"frame", "", no_types},
    {"axis_source", "u", no_types},
    {"axis_stop", "uu", no_types},
    {"axis_discrete", "uufi", no_types},
    {"destroy", "", no_types},
};
const wl_interface virtual_pointer_interface = {"zwlr_virtual_pointer_v1", 2, 9, pointer_requests, 0, nullptr};

const wl_message manager_requests[] = {
    {"create_virtual_pointer", "?on", create_types},
    {"destroy", "", no_types},
    {"create_virtual_pointer_with_output", "2?o?on", create_with_output_types},
};
const wl_interface manager_interface = {"zwlr_virtual_pointer_manager_v1", 2, 3, manager_requests, 0, nullptr};

enum PointerRequest : std::uint32_t { Motion, MotionAbsolute, Button, Axis, Frame, AxisSource, AxisStop, AxisDiscrete, Destroy };
enum ManagerRequest : std::uint32_t { CreatePointer, DestroyManager };

struct Globals {
    std::set<std::string> names;
    std::uint32_t manager_name = 0;
    std::uint32_t manager_version = 0;
    std::uint32_t seat_name = 0;
};

void on_global(void* data, wl_registry*, std::uint32_t name, const char* interface, std::uint32_t version) {
    auto* g = static_cast<Globals*>(data);
    g->names.insert(interface);
    if (std::strcmp(interface, wl_seat_interface.name) == 0)
        g->seat_name = name;
    if (std::strcmp(interface, manager_interface.name) == 0) {
        g->manager_name = name;
        g->manager_version = version;
    }
}
void on_global_remove(void*, wl_registry*, std::uint32_t) {}
const wl_registry_listener registry_listener = {on_global, on_global_remove};

wl_display* connect_to(const std::string& runtime_dir, const std::string& display) {
    const std::string path = runtime_dir + "/" + display;
    return wl_display_connect(path.c_str()); // an absolute path is taken as it is
}

} // namespace

std::set<std::string> wayland_globals(const std::string& runtime_dir, const std::string& display) {
    wl_display* d = connect_to(runtime_dir, display);
    if (!d)
        return {};
    Globals g;
    wl_registry* registry = wl_display_get_registry(d);
    wl_registry_add_listener(registry, &registry_listener, &g);
    wl_display_roundtrip(d);
    wl_registry_destroy(registry);
    wl_display_disconnect(d);
    return g.names;
}

std::uint32_t seat_capabilities(const std::string& runtime_dir, const std::string& display) {
    wl_display* d = connect_to(runtime_dir, display);
    if (!d)
        return 0;
    Globals g;
    wl_registry* registry = wl_display_get_registry(d);
    wl_registry_add_listener(registry, &registry_listener, &g);
    wl_display_roundtrip(d);
    std::uint32_t caps = 0;
    if (g.seat_name) {
        auto* seat = static_cast<wl_seat*>(wl_registry_bind(registry, g.seat_name, &wl_seat_interface, 1));
        static const wl_seat_listener listener = {
            [](void* data, wl_seat*, std::uint32_t c) { *static_cast<std::uint32_t*>(data) = c; },
            [](void*, wl_seat*, const char*) {},
        };
        wl_seat_add_listener(seat, &listener, &caps);
        wl_display_roundtrip(d);
        wl_seat_destroy(seat);
    }
    wl_registry_destroy(registry);
    wl_display_disconnect(d);
    return caps;
}

VirtualPointer::VirtualPointer(const std::string& runtime_dir, const std::string& display) {
    display_ = connect_to(runtime_dir, display);
    if (!display_)
        return;
    Globals g;
    registry_ = wl_display_get_registry(display_);
    wl_registry_add_listener(registry_, &registry_listener, &g);
    wl_display_roundtrip(display_);
    if (!g.manager_name)
        return;
    manager_ = static_cast<wl_proxy*>(wl_registry_bind(registry_, g.manager_name, &manager_interface, 1));
    // No seat: the shell's default seat.
    pointer_ = wl_proxy_marshal_flags(manager_, CreatePointer, &virtual_pointer_interface, 1, 0, nullptr, nullptr);
    wl_display_roundtrip(display_);
}

VirtualPointer::~VirtualPointer() {
    if (pointer_)
        wl_proxy_marshal_flags(pointer_, Destroy, nullptr, 1, WL_MARSHAL_FLAG_DESTROY);
    if (manager_)
        wl_proxy_marshal_flags(manager_, DestroyManager, nullptr, 1, WL_MARSHAL_FLAG_DESTROY);
    if (registry_)
        wl_registry_destroy(registry_);
    if (display_) {
        wl_display_roundtrip(display_);
        wl_display_disconnect(display_);
    }
}

void VirtualPointer::frame_and_sync() {
    wl_proxy_marshal_flags(pointer_, Frame, nullptr, 1, 0);
    wl_display_roundtrip(display_);
}

void VirtualPointer::motion(double dx, double dy) {
    if (!pointer_)
        return;
    wl_proxy_marshal_flags(pointer_, Motion, nullptr, 1, 0, time_ms_++, wl_fixed_from_double(dx), wl_fixed_from_double(dy));
    frame_and_sync();
}

void VirtualPointer::motion_absolute(std::uint32_t x, std::uint32_t y, std::uint32_t x_extent, std::uint32_t y_extent) {
    if (!pointer_)
        return;
    wl_proxy_marshal_flags(pointer_, MotionAbsolute, nullptr, 1, 0, time_ms_++, x, y, x_extent, y_extent);
    frame_and_sync();
}

void VirtualPointer::button(std::uint32_t evdev_button, bool pressed) {
    if (!pointer_)
        return;
    wl_proxy_marshal_flags(pointer_, Button, nullptr, 1, 0, time_ms_++, evdev_button,
                           static_cast<std::uint32_t>(pressed ? WL_POINTER_BUTTON_STATE_PRESSED
                                                              : WL_POINTER_BUTTON_STATE_RELEASED));
    frame_and_sync();
}

void VirtualPointer::wheel(bool vertical, int notches) {
    if (!pointer_)
        return;
    const std::uint32_t axis = vertical ? WL_POINTER_AXIS_VERTICAL_SCROLL : WL_POINTER_AXIS_HORIZONTAL_SCROLL;
    wl_proxy_marshal_flags(pointer_, AxisSource, nullptr, 1, 0, static_cast<std::uint32_t>(WL_POINTER_AXIS_SOURCE_WHEEL));
    wl_proxy_marshal_flags(pointer_, AxisDiscrete, nullptr, 1, 0, time_ms_++, axis, wl_fixed_from_double(15.0 * notches),
                           notches);
    frame_and_sync();
}

} // namespace phyllome::test
