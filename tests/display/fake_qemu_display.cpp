#include "tests/display/fake_qemu_display.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <systemd/sd-id128.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>

#include "guestview/display/bus_properties.hpp"

namespace phyllome::guestview::testing {
namespace {

constexpr const char* listener_path = "/org/qemu/Display1/Listener";
constexpr const char* listener_interface = "org.qemu.Display1.Listener";

void check(int r, const char* what) {
    if (r < 0)
        throw std::runtime_error(std::string(what) + ": " + std::strerror(-r));
}

// QEMU's role on every display socket: D-Bus auth server with a random guid.
detail::BusPtr make_server_bus(int fd) {
    sd_bus* raw = nullptr;
    check(sd_bus_new(&raw), "sd_bus_new");
    detail::BusPtr bus(raw);
    sd_id128_t id;
    check(sd_id128_randomize(&id), "sd_id128_randomize");
    check(sd_bus_set_fd(raw, fd, fd), "sd_bus_set_fd");
    check(sd_bus_set_server(raw, 1, id), "sd_bus_set_server");
    check(sd_bus_start(raw), "sd_bus_start");
    return bus;
}

std::string console_path(std::uint32_t id) { return "/org/qemu/Display1/Console_" + std::to_string(id); }

} // namespace

struct FakeQemuDisplay::Console {
    FakeQemuDisplay* owner = nullptr;
    std::uint32_t id = 0;
    FakeConsoleConfig config;
};

struct FakeQemuDisplay::Listener {
    detail::BusPtr bus;
    std::unique_ptr<detail::BusEventSource> source;
    ListenerProbe probe;
    detail::SlotPtr probe_call;
    // The outcome is the slot's userdata; callbacks only run while the slot is held here.
    std::vector<std::pair<detail::SlotPtr, std::shared_ptr<CallOutcome>>> calls;
    bool open = true;
};

FakeQemuDisplay::FakeQemuDisplay(wl_event_loop* loop, std::string vm_name, std::vector<FakeConsoleConfig> consoles)
    : loop_(loop), vm_name_(std::move(vm_name)) {
    for (std::uint32_t id = 0; id < consoles.size(); ++id) {
        console_ids_.push_back(id);
        consoles_[id] = std::make_unique<Console>(Console{this, id, consoles[id]});
    }
}

FakeQemuDisplay::~FakeQemuDisplay() {
    if (!listen_path_.empty())
        ::unlink(listen_path_.c_str());
}

int FakeQemuDisplay::client_socket() {
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
        throw std::runtime_error("socketpair failed");
    serve(sv[0]);
    return sv[1];
}

std::string FakeQemuDisplay::listen_unix(const std::string& path) {
    listen_fd_ = detail::UniqueFd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, path.c_str(), sizeof(address.sun_path) - 1);
    ::unlink(path.c_str());
    if (::bind(listen_fd_.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
        ::listen(listen_fd_.get(), 1) != 0)
        throw std::runtime_error("cannot listen on " + path);
    listen_path_ = path;
    accept_source_.reset(wl_event_loop_add_fd(loop_, listen_fd_.get(), WL_EVENT_READABLE, on_accept, this));
    return "unix:path=" + path;
}

int FakeQemuDisplay::on_accept(int fd, std::uint32_t, void* data) {
    auto* self = static_cast<FakeQemuDisplay*>(data);
    int client = ::accept4(fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (client >= 0) {
        self->accept_source_.reset(); // one client, like a p2p add_client
        self->serve(client);
    }
    return 0;
}

void FakeQemuDisplay::serve(int fd) {
    bus_ = make_server_bus(fd);
    sd_bus_slot* slot = nullptr;
    check(sd_bus_add_filter(bus_.get(), &slot, on_incoming, this), "sd_bus_add_filter");
    mute_filter_.reset(slot);
    export_objects();
    if (!stalled_)
        watch_main();
}

void FakeQemuDisplay::watch_main() {
    source_ = std::make_unique<detail::BusEventSource>(loop_, bus_.get(), [this](std::string) { source_.reset(); });
}

// Filters run before object dispatch; returning 1 swallows the call unanswered.
int FakeQemuDisplay::on_incoming(sd_bus_message* m, void* data, sd_bus_error*) {
    auto* self = static_cast<FakeQemuDisplay*>(data);
    return self->mute_ && sd_bus_message_is_method_call(m, nullptr, nullptr) > 0 ? 1 : 0;
}

bool FakeQemuDisplay::main_connected() const { return source_ && !source_->closed(); }

bool FakeQemuDisplay::listener_connected(std::uint32_t console) const {
    auto it = listeners_.find(console);
    return it != listeners_.end() && it->second->open;
}

const ListenerProbe& FakeQemuDisplay::probe(std::uint32_t console) const {
    static const ListenerProbe none;
    auto it = listeners_.find(console);
    return it == listeners_.end() ? none : it->second->probe;
}

// ---- exported objects ----

namespace {

int get_vm_name(sd_bus*, const char*, const char*, const char*, sd_bus_message* reply, void* data, sd_bus_error*) {
    return sd_bus_message_append(reply, "s", static_cast<const std::string*>(data)->c_str());
}

int get_console_ids(sd_bus*, const char*, const char*, const char*, sd_bus_message* reply, void* data,
                    sd_bus_error*) {
    const auto* ids = static_cast<const std::vector<std::uint32_t>*>(data);
    return sd_bus_message_append_array(reply, 'u', ids->data(), ids->size() * sizeof(std::uint32_t));
}

int get_console_property(sd_bus*, const char*, const char*, const char* property, sd_bus_message* reply,
                         void* data, sd_bus_error*) {
    const auto& config = static_cast<const FakeQemuDisplay::Console*>(data)->config;
    const std::string_view name = property;
    if (name == "Label")
        return sd_bus_message_append(reply, "s", config.label.c_str());
    if (name == "Type")
        return sd_bus_message_append(reply, "s", config.type.c_str());
    if (name == "DeviceAddress")
        return sd_bus_message_append(reply, "s", "pci/0000/01.0");
    if (name == "Head")
        return sd_bus_message_append(reply, "u", config.head);
    if (name == "Width")
        return sd_bus_message_append(reply, "u", config.width);
    if (name == "Height")
        return sd_bus_message_append(reply, "u", config.height);
    if (name == "Modifiers")
        return sd_bus_message_append(reply, "u", config.modifiers);
    if (name == "IsAbsolute")
        return sd_bus_message_append(reply, "b", int{config.mouse_is_absolute});
    return -ENOENT;
}

} // namespace

void FakeQemuDisplay::export_objects() {
    static const sd_bus_vtable vm_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Name", "s", get_vm_name, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_VTABLE_END,
    };
    static const sd_bus_vtable vm_ids_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("ConsoleIDs", "au", get_console_ids, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_VTABLE_END,
    };
    static const sd_bus_vtable console_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD("RegisterListener", "h", "", on_register_listener, 0),
        SD_BUS_METHOD("SetUIInfo", "qqiiuu", "", on_set_ui_info, 0),
        SD_BUS_PROPERTY("Label", "s", get_console_property, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Type", "s", get_console_property, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Head", "u", get_console_property, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("DeviceAddress", "s", get_console_property, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Width", "u", get_console_property, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Height", "u", get_console_property, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_VTABLE_END,
    };
    static const sd_bus_vtable keyboard_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD("Press", "u", "", on_input, 0),
        SD_BUS_METHOD("Release", "u", "", on_input, 0),
        SD_BUS_PROPERTY("Modifiers", "u", get_console_property, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_VTABLE_END,
    };
    static const sd_bus_vtable mouse_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD("Press", "u", "", on_input, 0),
        SD_BUS_METHOD("Release", "u", "", on_input, 0),
        SD_BUS_METHOD("SetAbsPosition", "uu", "", on_input, 0),
        SD_BUS_METHOD("RelMotion", "ii", "", on_input, 0),
        SD_BUS_PROPERTY("IsAbsolute", "b", get_console_property, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_VTABLE_END,
    };
    auto add = [this](const std::string& path, const char* interface, const sd_bus_vtable* vtable, void* data) {
        sd_bus_slot* slot = nullptr;
        check(sd_bus_add_object_vtable(bus_.get(), &slot, path.c_str(), interface, vtable, data), interface);
        object_slots_.emplace_back(slot);
    };
    add("/org/qemu/Display1/VM", "org.qemu.Display1.VM", vm_vtable, &vm_name_);
    add("/org/qemu/Display1/VM", "org.qemu.Display1.VM", vm_ids_vtable, &console_ids_);
    for (auto& [id, console] : consoles_) {
        add(console_path(id), "org.qemu.Display1.Console", console_vtable, console.get());
        add(console_path(id), "org.qemu.Display1.Keyboard", keyboard_vtable, console.get());
        add(console_path(id), "org.qemu.Display1.Mouse", mouse_vtable, console.get());
    }
}

int FakeQemuDisplay::on_register_listener(sd_bus_message* m, void* data, sd_bus_error*) {
    auto* console = static_cast<Console*>(data);
    FakeQemuDisplay* self = console->owner;
    ++self->register_calls_;
    int fd = -1;
    check(sd_bus_message_read(m, "h", &fd), "reading RegisterListener");
    auto listener_fd = detail::duplicate_fd(fd);
    // QEMU order: reply first, then authenticate and read the listener's properties.
    check(sd_bus_reply_method_return(m, ""), "replying to RegisterListener");
    // QEMU 7.2 p2p: a new registration replaces the console's previous listener.
    auto listener = std::make_unique<Listener>();
    listener->bus = make_server_bus(listener_fd.release());
    Listener* raw = listener.get();
    listener->source = std::make_unique<detail::BusEventSource>(self->loop_, raw->bus.get(),
                                                                [raw](std::string) { raw->open = false; });
    sd_bus_slot* slot = nullptr;
    check(sd_bus_call_method_async(
              raw->bus.get(), &slot, nullptr, listener_path, "org.freedesktop.DBus.Properties", "GetAll",
              [](sd_bus_message* reply, void* probe_data, sd_bus_error*) {
                  auto* probe = static_cast<ListenerProbe*>(probe_data);
                  probe->answered = true;
                  if (const sd_bus_error* e = sd_bus_message_get_error(reply)) {
                      probe->error = e->name;
                      return 0;
                  }
                  detail::PropertyMap properties;
                  if (detail::read_property_dict(reply, properties) < 0)
                      probe->error = "malformed GetAll reply";
                  else if (auto list = detail::property_as<std::vector<std::string>>(properties, "Interfaces"))
                      probe->interfaces = *list;
                  else
                      probe->error = "no Interfaces property";
                  return 0;
              },
              &raw->probe, "s", listener_interface),
          "GetAll on the listener");
    listener->probe_call.reset(slot);
    raw->source->rearm();
    self->listeners_[console->id] = std::move(listener);
    return 1;
}

int FakeQemuDisplay::on_set_ui_info(sd_bus_message* m, void* data, sd_bus_error*) {
    auto* console = static_cast<Console*>(data);
    std::uint16_t width_mm = 0, height_mm = 0;
    std::int32_t x = 0, y = 0;
    std::uint32_t width = 0, height = 0;
    check(sd_bus_message_read(m, "qqiiuu", &width_mm, &height_mm, &x, &y, &width, &height), "reading SetUIInfo");
    console->owner->input_calls_.push_back(
        {console->id, "Console.SetUIInfo", {width_mm, height_mm, x, y, width, height}});
    if (!console->config.ui_info_supported)
        return sd_bus_reply_method_errorf(m, "org.qemu.Display1.Error.Unsupported", "SetUIInfo is not supported");
    return sd_bus_reply_method_return(m, "");
}

int FakeQemuDisplay::on_input(sd_bus_message* m, void* data, sd_bus_error*) {
    auto* console = static_cast<Console*>(data);
    const std::string interface = sd_bus_message_get_interface(m);
    const std::string member = sd_bus_message_get_member(m);
    InputCall call{console->id, interface.substr(interface.rfind('.') + 1) + "." + member, {}};
    const char* signature = sd_bus_message_get_signature(m, 1);
    for (const char* type = signature; *type; ++type) {
        if (*type == 'u') {
            std::uint32_t value = 0;
            check(sd_bus_message_read_basic(m, 'u', &value), "reading input");
            call.args.push_back(value);
        } else {
            std::int32_t value = 0;
            check(sd_bus_message_read_basic(m, 'i', &value), "reading input");
            call.args.push_back(value);
        }
    }
    console->owner->input_calls_.push_back(call);
    // QEMU 7.2 asserts on unknown InputButton values and aborts the VM.
    if ((member == "Press" || member == "Release") && interface.ends_with("Mouse") && call.args[0] > 8)
        console->owner->qemu_would_abort_ = true;
    return sd_bus_reply_method_return(m, "");
}

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
