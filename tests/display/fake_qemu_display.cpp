#include "tests/display/fake_qemu_display.hpp"
#include "tests/display/fake_qemu_display_parts.hpp"

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

FakeQemuDisplay::FakeQemuDisplay(wl_event_loop* loop, std::string vm_name, std::vector<FakeConsoleConfig> consoles)
    : loop_(loop), vm_name_(std::move(vm_name)), clipboard_(std::make_unique<Clipboard>()) {
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
        return sd_bus_message_append(reply, "s", config.device_address.c_str());
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
    if (name == "Interfaces")
        return sd_bus_message_append(reply, "as", 2, "org.qemu.Display1.Keyboard", "org.qemu.Display1.Mouse");
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
    // QEMU 8.1 and later: the client takes its presence as the version check for audio.
    static const sd_bus_vtable console_interfaces_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Interfaces", "as", get_console_property, 0, SD_BUS_VTABLE_PROPERTY_CONST),
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
    for (const auto& export_more : exporters_)
        export_more(bus_.get());
    for (auto& [id, console] : consoles_) {
        add(console_path(id), "org.qemu.Display1.Console", console_vtable, console.get());
        if (console->config.lists_interfaces)
            add(console_path(id), "org.qemu.Display1.Console", console_interfaces_vtable, console.get());
        add(console_path(id), "org.qemu.Display1.Keyboard", keyboard_vtable, console.get());
        add(console_path(id), "org.qemu.Display1.Mouse", mouse_vtable, console.get());
    }
    export_clipboard();
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

} // namespace phyllome::guestview::testing
