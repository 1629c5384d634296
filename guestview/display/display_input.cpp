// Input sent to QEMU on the main connection: fire-and-forget calls whose errors are logged.
#include <algorithm>
#include <cstring>

#include "config/log.hpp"
#include "guestview/display/display_connection_impl.hpp"

namespace phyllome::guestview {
namespace {

constexpr const char* keyboard_interface = "org.qemu.Display1.Keyboard";
constexpr const char* mouse_interface = "org.qemu.Display1.Mouse";
constexpr const char* error_unsupported = "org.qemu.Display1.Error.Unsupported";

} // namespace

void DisplayConnection::Impl::send_input(std::uint32_t id, const char* interface, const char* method,
                                         const char* signature, std::uint32_t a, std::uint32_t b) {
    if (!main_open_)
        return;
    // Floating slot: the reply only matters when it is an error.
    int r = call_console(id, nullptr, on_input_reply, this, interface, method, signature, a, b);
    if (r >= 0)
        ++input_stats.sent;
    else
        log::warn("guest {}: sending {}.{} to console {} failed: {}", guest_name, interface, method, id,
                  std::strerror(-r));
}

int DisplayConnection::Impl::on_input_reply(sd_bus_message* reply, void* data, sd_bus_error*) {
    auto* self = static_cast<Impl*>(data);
    const sd_bus_error* e = sd_bus_message_get_error(reply);
    ++(e ? self->input_stats.failed : self->input_stats.acknowledged);
    // Pending calls fail with NoReply/Disconnected when the connection goes; that is
    // reported once through `disconnected`, not per input event.
    if (e && self->main_open_)
        log::warn("guest {}: QEMU refused input: {}", self->guest_name, e->message ? e->message : e->name);
    return 0;
}

void DisplayConnection::Impl::key(std::uint32_t console, std::uint32_t qnum, bool pressed) {
    ConsoleState* state = this->state(console);
    if (!state || !main_open_)
        return;
    if (pressed)
        state->held_keys.insert(qnum);
    else
        state->held_keys.erase(qnum);
    send_input(console, keyboard_interface, pressed ? "Press" : "Release", "u", qnum);
}

void DisplayConnection::Impl::pointer_absolute(std::uint32_t console, std::uint32_t x, std::uint32_t y) {
    ConsoleState* state = this->state(console);
    if (!state || state->info.width == 0 || state->info.height == 0)
        return;
    if (!state->info.mouse_is_absolute) {
        log::debug("guest {}: console {} pointer is relative, absolute motion dropped", guest_name, console);
        return;
    }
    // QEMU answers Error.Invalid for positions outside the current surface.
    send_input(console, mouse_interface, "SetAbsPosition", "uu", std::min(x, state->info.width - 1),
               std::min(y, state->info.height - 1));
}

void DisplayConnection::Impl::pointer_relative(std::uint32_t console, std::int32_t dx, std::int32_t dy) {
    ConsoleState* state = this->state(console);
    if (!state)
        return;
    if (state->info.mouse_is_absolute) {
        log::debug("guest {}: console {} pointer is absolute, relative motion dropped", guest_name, console);
        return;
    }
    send_input(console, mouse_interface, "RelMotion", "ii", static_cast<std::uint32_t>(dx),
               static_cast<std::uint32_t>(dy));
}

void DisplayConnection::Impl::button(std::uint32_t console, std::uint32_t button, bool pressed) {
    ConsoleState* state = this->state(console);
    if (!state || !main_open_)
        return;
    // QEMU 7.2 asserts (and aborts the VM) on InputButton values it does not know.
    if (button > max_mouse_button) {
        log::debug("guest {}: mouse button {} clamped to {}", guest_name, button, max_mouse_button);
        button = max_mouse_button;
    }
    if (pressed)
        state->held_buttons.insert(button);
    else
        state->held_buttons.erase(button);
    send_input(console, mouse_interface, pressed ? "Press" : "Release", "u", button);
}

void DisplayConnection::Impl::set_ui_info(std::uint32_t console, std::uint16_t width_mm, std::uint16_t height_mm,
                                          std::uint32_t width, std::uint32_t height) {
    ConsoleState* state = this->state(console);
    if (!state || !main_open_ || state->ui_info_unsupported)
        return;
    sd_bus_slot* slot = nullptr;
    int r = call_console(console, &slot, on_ui_info_reply, state, "org.qemu.Display1.Console", "SetUIInfo",
                         "qqiiuu", unsigned{width_mm}, unsigned{height_mm}, 0, 0, width, height);
    if (r < 0) {
        log::warn("guest {}: SetUIInfo on console {} failed: {}", guest_name, console, std::strerror(-r));
        return;
    }
    state->ui_info_call.reset(slot); // a newer request supersedes the older one's answer
}

int DisplayConnection::Impl::on_ui_info_reply(sd_bus_message* reply, void* data, sd_bus_error*) {
    auto* state = static_cast<ConsoleState*>(data);
    const sd_bus_error* e = sd_bus_message_get_error(reply);
    if (!e)
        return 0;
    if (sd_bus_error_has_name(e, error_unsupported)) {
        state->ui_info_unsupported = true;
        log::info("guest {}: console {} ({}) cannot change its resolution from the host", state->owner->guest_name,
                  state->info.id, state->info.label);
    } else if (state->owner->main_open_) {
        log::warn("guest {}: SetUIInfo on console {} failed: {}", state->owner->guest_name, state->info.id,
                  e->message ? e->message : e->name);
    }
    return 0;
}

void DisplayConnection::Impl::release_all_input(std::uint32_t console) {
    ConsoleState* state = this->state(console);
    if (!state)
        return;
    for (std::uint32_t qnum : std::exchange(state->held_keys, {}))
        send_input(console, keyboard_interface, "Release", "u", qnum);
    for (std::uint32_t button : std::exchange(state->held_buttons, {}))
        send_input(console, mouse_interface, "Release", "u", button);
}

} // namespace phyllome::guestview
