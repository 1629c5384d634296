// FakeQemuDisplay's side of the listener connection: the messages QEMU sends a listener.
#include "tests/display/fake_qemu_display.hpp"
#include "tests/display/fake_qemu_display_parts.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>

namespace phyllome::guestview::testing {

// ---- listener messages ----

sd_bus* FakeQemuDisplay::listener_bus(std::uint32_t console) const { return listeners_.at(console)->bus.get(); }

void FakeQemuDisplay::send_no_reply(std::uint32_t console, sd_bus_message* message) {
    detail::MessagePtr owned(message);
    check(sd_bus_message_set_expect_reply(message, 0), "set_expect_reply");
    check(sd_bus_send(listener_bus(console), message, nullptr), "sd_bus_send");
    if (auto& source = listeners_.at(console)->source)
        source->rearm();
}

std::shared_ptr<CallOutcome> FakeQemuDisplay::call(std::uint32_t console, sd_bus_message* message) {
    detail::MessagePtr owned(message);
    auto outcome = std::make_shared<CallOutcome>();
    sd_bus_slot* slot = nullptr;
    check(sd_bus_call_async(
              listener_bus(console), &slot, message,
              [](sd_bus_message* reply, void* data, sd_bus_error*) {
                  auto* result = static_cast<CallOutcome*>(data);
                  result->answered = true;
                  if (const sd_bus_error* e = sd_bus_message_get_error(reply))
                      result->error = e->name;
                  return 0;
              },
              outcome.get(), 0),
          "sd_bus_call_async");
    listeners_.at(console)->calls.emplace_back(detail::SlotPtr(slot), outcome);
    if (auto& source = listeners_.at(console)->source)
        source->rearm();
    return outcome;
}

namespace {
sd_bus_message* new_call(sd_bus* bus, const char* interface, const char* member) {
    sd_bus_message* m = nullptr;
    check(sd_bus_message_new_method_call(bus, &m, nullptr, listener_path, interface, member), "new method call");
    return m;
}
} // namespace

void FakeQemuDisplay::scanout(std::uint32_t console, std::uint32_t width, std::uint32_t height, std::uint32_t stride,
                              std::uint32_t format, std::span<const std::uint8_t> data) {
    sd_bus_message* m = new_call(listener_bus(console), listener_interface, "Scanout");
    check(sd_bus_message_append(m, "uuuu", width, height, stride, format), "append");
    check(sd_bus_message_append_array(m, 'y', data.data(), data.size()), "append data");
    send_no_reply(console, m);
}

void FakeQemuDisplay::update(std::uint32_t console, std::int32_t x, std::int32_t y, std::int32_t width,
                             std::int32_t height, std::uint32_t stride, std::uint32_t format,
                             std::span<const std::uint8_t> data) {
    sd_bus_message* m = new_call(listener_bus(console), listener_interface, "Update");
    check(sd_bus_message_append(m, "iiiiuu", x, y, width, height, stride, format), "append");
    check(sd_bus_message_append_array(m, 'y', data.data(), data.size()), "append data");
    send_no_reply(console, m);
}

void FakeQemuDisplay::update_map(std::uint32_t console, std::int32_t x, std::int32_t y, std::int32_t width,
                                 std::int32_t height) {
    sd_bus_message* m = new_call(listener_bus(console), "org.qemu.Display1.Listener.Unix.Map", "UpdateMap");
    check(sd_bus_message_append(m, "iiii", x, y, width, height), "append");
    send_no_reply(console, m);
}

void FakeQemuDisplay::scanout_dmabuf(std::uint32_t console, int fd, std::uint32_t width, std::uint32_t height,
                                     std::uint32_t stride, std::uint32_t fourcc, std::uint64_t modifier,
                                     bool y0_top) {
    sd_bus_message* m = new_call(listener_bus(console), listener_interface, "ScanoutDMABUF");
    check(sd_bus_message_append(m, "huuuutb", fd, width, height, stride, fourcc, modifier, int{y0_top}), "append");
    send_no_reply(console, m);
}

void FakeQemuDisplay::disable(std::uint32_t console) {
    send_no_reply(console, new_call(listener_bus(console), listener_interface, "Disable"));
}

void FakeQemuDisplay::mouse_set(std::uint32_t console, std::int32_t x, std::int32_t y, bool visible) {
    sd_bus_message* m = new_call(listener_bus(console), listener_interface, "MouseSet");
    check(sd_bus_message_append(m, "iii", x, y, int{visible}), "append");
    send_no_reply(console, m);
}

void FakeQemuDisplay::cursor_define(std::uint32_t console, std::int32_t width, std::int32_t height,
                                    std::int32_t hot_x, std::int32_t hot_y, std::span<const std::uint8_t> argb) {
    sd_bus_message* m = new_call(listener_bus(console), listener_interface, "CursorDefine");
    check(sd_bus_message_append(m, "iiii", width, height, hot_x, hot_y), "append");
    check(sd_bus_message_append_array(m, 'y', argb.data(), argb.size()), "append data");
    send_no_reply(console, m);
}

std::shared_ptr<CallOutcome> FakeQemuDisplay::scanout_map(std::uint32_t console, int memfd, std::uint32_t offset,
                                                          std::uint32_t width, std::uint32_t height,
                                                          std::uint32_t stride, std::uint32_t format) {
    sd_bus_message* m = new_call(listener_bus(console), "org.qemu.Display1.Listener.Unix.Map", "ScanoutMap");
    check(sd_bus_message_append(m, "huuuuu", memfd, offset, width, height, stride, format), "append");
    return call(console, m);
}

std::shared_ptr<CallOutcome> FakeQemuDisplay::update_dmabuf(std::uint32_t console, std::int32_t x, std::int32_t y,
                                                            std::int32_t width, std::int32_t height) {
    sd_bus_message* m = new_call(listener_bus(console), listener_interface, "UpdateDMABUF");
    check(sd_bus_message_append(m, "iiii", x, y, width, height), "append");
    return call(console, m);
}

int FakeQemuDisplay::send_raw(std::uint32_t console, const char* interface, const char* member,
                              const std::function<int(sd_bus_message*)>& append) {
    sd_bus_message* raw = nullptr;
    int r = sd_bus_message_new_method_call(listener_bus(console), &raw, nullptr, listener_path, interface, member);
    if (r < 0)
        return r;
    detail::MessagePtr m(raw);
    if ((r = append(raw)) < 0)
        return r;
    sd_bus_message_set_expect_reply(raw, 0);
    r = sd_bus_send(listener_bus(console), raw, nullptr);
    if (auto& source = listeners_.at(console)->source)
        source->rearm();
    return r;
}

// ---- properties and lifecycle ----

void FakeQemuDisplay::emit_changed(std::uint32_t console, const char* interface, const char* property) {
    check(sd_bus_emit_properties_changed(bus_.get(), console_path(console).c_str(), interface, property, nullptr),
          "emitting PropertiesChanged");
    if (source_)
        source_->rearm();
}

void FakeQemuDisplay::set_console_size(std::uint32_t console, std::uint32_t width, std::uint32_t height) {
    consoles_.at(console)->config.width = width;
    consoles_.at(console)->config.height = height;
    check(sd_bus_emit_properties_changed(bus_.get(), console_path(console).c_str(), "org.qemu.Display1.Console",
                                         "Width", "Height", nullptr),
          "emitting PropertiesChanged");
    if (source_)
        source_->rearm();
}

void FakeQemuDisplay::set_modifiers(std::uint32_t console, std::uint32_t modifiers) {
    consoles_.at(console)->config.modifiers = modifiers;
    emit_changed(console, "org.qemu.Display1.Keyboard", "Modifiers");
}

void FakeQemuDisplay::set_mouse_absolute(std::uint32_t console, bool absolute) {
    consoles_.at(console)->config.mouse_is_absolute = absolute;
    emit_changed(console, "org.qemu.Display1.Mouse", "IsAbsolute");
}

void FakeQemuDisplay::close_main() {
    source_.reset();
    object_slots_.clear();
    bus_.reset();
}

void FakeQemuDisplay::close_listener(std::uint32_t console) { listeners_.erase(console); }

void FakeQemuDisplay::stall() {
    stalled_ = true;
    source_.reset();
    for (auto& [id, listener] : listeners_)
        listener->source.reset();
}

void FakeQemuDisplay::resume() {
    stalled_ = false;
    if (bus_ && !source_ && sd_bus_is_open(bus_.get()) > 0)
        watch_main();
    for (auto& [id, listener] : listeners_) {
        Listener* raw = listener.get();
        if (raw->open && !raw->source)
            raw->source = std::make_unique<detail::BusEventSource>(loop_, raw->bus.get(),
                                                                   [raw](std::string) { raw->open = false; });
    }
}

void FakeQemuDisplay::update_then_hang_up(std::uint32_t console, std::int32_t x, std::int32_t y, std::int32_t width,
                                          std::int32_t height, std::uint32_t stride, std::uint32_t format,
                                          std::span<const std::uint8_t> data) {
    set_send_buffer(console, 64 * 1024); // the kernel takes about twice this, far less than the message
    update(console, x, y, width, height, stride, format, data); // writes what fits, queues the rest
    close_listener(console); // without flushing the queued rest
    close_main();
}

void FakeQemuDisplay::set_send_buffer(std::uint32_t console, int bytes) {
    const int fd = sd_bus_get_fd(listener_bus(console));
    if (::setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &bytes, sizeof bytes) != 0)
        check(::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof bytes) == 0 ? 0 : -errno, "SO_SNDBUF");
}

bool FakeQemuDisplay::listener_backlogged(std::uint32_t console) const {
    auto it = listeners_.find(console);
    if (it == listeners_.end() || !it->second->open)
        return false;
    const int events = sd_bus_get_events(it->second->bus.get());
    return events > 0 && (events & POLLOUT) != 0;
}

} // namespace phyllome::guestview::testing
