#include "output_power_client.hpp"

#include <cstdint>
#include <cstring>
#include <iterator>

#include <wayland-client.h>

namespace phyllome::test {
namespace {

// The wlr-output-power-management-unstable-v1 interfaces (version 1), described by hand: the
// protocol XML is not installed on Debian, and these few messages are all a test needs.
extern const wl_interface power_interface;

const wl_interface* no_types[] = {nullptr};
const wl_interface* get_power_types[] = {&power_interface, &wl_output_interface};

const wl_message power_requests[] = {{"set_mode", "u", no_types}, {"destroy", "", no_types}};
const wl_message power_events[] = {{"mode", "u", no_types}, {"failed", "", no_types}};
const wl_interface power_interface = {"zwlr_output_power_v1", 1, 2, power_requests, 2, power_events};

const wl_message manager_requests[] = {{"get_output_power", "no", get_power_types}, {"destroy", "", no_types}};
const wl_interface manager_interface = {"zwlr_output_power_manager_v1", 1, 2, manager_requests, 0, nullptr};

enum PowerRequest : std::uint32_t { SetMode, DestroyPower };
enum ManagerRequest : std::uint32_t { GetOutputPower, DestroyManager };

struct PowerListener {
    void (*mode)(void* data, wl_proxy* power, std::uint32_t mode);
    void (*failed)(void* data, wl_proxy* power);
};
const PowerListener power_listener = {
    [](void* data, wl_proxy*, std::uint32_t mode) { static_cast<OutputPowerClient*>(data)->on_mode(static_cast<int>(mode)); },
    [](void* data, wl_proxy*) { static_cast<OutputPowerClient*>(data)->on_failed(); },
};

const wl_output_listener output_listener = {
    .geometry = [](void*, wl_output*, std::int32_t, std::int32_t, std::int32_t, std::int32_t, std::int32_t,
                   const char*, const char*, std::int32_t) {},
    .mode = [](void*, wl_output*, std::uint32_t, std::int32_t, std::int32_t, std::int32_t) {},
    .done = [](void*, wl_output*) {},
    .scale = [](void*, wl_output*, std::int32_t) {},
    .name = [](void* data, wl_output* output, const char* name) {
        static_cast<OutputPowerClient*>(data)->on_output_name(reinterpret_cast<wl_proxy*>(output), name);
    },
    .description = [](void*, wl_output*, const char*) {},
};

const wl_registry_listener registry_listener = {
    [](void* data, wl_registry* registry, std::uint32_t name, const char* interface, std::uint32_t version) {
        static_cast<OutputPowerClient*>(data)->on_global(registry, name, interface, version);
    },
    [](void*, wl_registry*, std::uint32_t) {},
};

} // namespace

OutputPowerClient::OutputPowerClient(const std::string& wayland_socket, const std::string& output)
    : wanted_(output) {
    display_ = wl_display_connect(wayland_socket.c_str()); // an absolute path is taken as it is
    if (!display_)
        return;
    registry_ = wl_display_get_registry(display_);
    wl_registry_add_listener(registry_, &registry_listener, this);
    wl_display_roundtrip(display_); // the globals
    wl_display_roundtrip(display_); // the outputs' names
    if (!manager_ || !output_)
        return;
    power_ = wl_proxy_marshal_flags(manager_, GetOutputPower, &power_interface, 1, 0, nullptr, output_);
    wl_proxy_add_listener(power_, reinterpret_cast<void (**)(void)>(const_cast<PowerListener*>(&power_listener)), this);
    wl_display_roundtrip(display_); // the current mode
}

void OutputPowerClient::on_global(wl_registry* registry, unsigned name, const char* interface, unsigned version) {
    if (std::strcmp(interface, manager_interface.name) == 0) {
        manager_ = static_cast<wl_proxy*>(wl_registry_bind(registry, name, &manager_interface, 1));
    } else if (std::strcmp(interface, wl_output_interface.name) == 0 && version >= 4 && bound_ < std::size(outputs_)) {
        auto* o = static_cast<wl_output*>(wl_registry_bind(registry, name, &wl_output_interface, 4));
        wl_output_add_listener(o, &output_listener, this);
        outputs_[bound_++] = reinterpret_cast<wl_proxy*>(o);
    }
}

void OutputPowerClient::on_output_name(wl_proxy* output, const char* name) {
    if (wanted_ == name)
        output_ = output;
}

OutputPowerClient::~OutputPowerClient() {
    if (power_)
        wl_proxy_marshal_flags(power_, DestroyPower, nullptr, 1, WL_MARSHAL_FLAG_DESTROY);
    if (manager_)
        wl_proxy_marshal_flags(manager_, DestroyManager, nullptr, 1, WL_MARSHAL_FLAG_DESTROY);
    for (unsigned i = 0; i < bound_; ++i)
        wl_output_release(reinterpret_cast<wl_output*>(outputs_[i]));
    if (registry_)
        wl_registry_destroy(registry_);
    if (display_) {
        wl_display_roundtrip(display_);
        wl_display_disconnect(display_);
    }
}

void OutputPowerClient::set_mode(bool on) {
    if (!power_)
        return;
    wl_proxy_marshal_flags(power_, SetMode, nullptr, 1, 0, static_cast<std::uint32_t>(on ? 1 : 0));
    wl_display_roundtrip(display_);
}

} // namespace phyllome::test
