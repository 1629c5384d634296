#include "guestview/display/display_connection.hpp"

#include <unistd.h>

#include <cstdarg>
#include <cstring>

#include "config/log.hpp"
#include "guestview/display/bus_properties.hpp"
#include "guestview/display/display_connection_impl.hpp"

namespace phyllome::guestview {
namespace {

constexpr const char* vm_path = "/org/qemu/Display1/VM";
constexpr const char* properties_interface = "org.freedesktop.DBus.Properties";
constexpr const char* console_interface = "org.qemu.Display1.Console";
constexpr const char* console_path_prefix = "/org/qemu/Display1/Console_";

// How long QEMU may take to answer the calls that set a display up (it answers in
// milliseconds when healthy). A hung QEMU must not leave the guest "connecting" for ever:
// after this the connection is dropped and the owner retries with backoff.
constexpr std::uint64_t setup_timeout_usec = 5'000'000;

std::string console_path(std::uint32_t id) { return console_path_prefix + std::to_string(id); }

std::optional<std::uint32_t> console_id_from_path(std::string_view path) {
    if (!path.starts_with(console_path_prefix))
        return std::nullopt;
    path.remove_prefix(std::strlen(console_path_prefix));
    if (path.empty() || path.size() > 9)
        return std::nullopt;
    std::uint32_t id = 0;
    for (char c : path) {
        if (c < '0' || c > '9')
            return std::nullopt;
        id = id * 10 + std::uint32_t(c - '0');
    }
    return id;
}

std::string errno_text(int r) { return std::strerror(-r); }

// Applies Console/Mouse/Keyboard properties; the three interfaces share one namespace.
bool apply_properties(ConsoleInfo& info, const detail::PropertyMap& properties) {
    const ConsoleInfo before = info;
    if (auto v = detail::property_as<std::string>(properties, "Type"))
        info.type = *v;
    if (auto v = detail::property_as<std::string>(properties, "Label"))
        info.label = *v;
    if (auto v = detail::property_as<std::uint32_t>(properties, "Head"))
        info.head = *v;
    if (auto v = detail::property_as<std::string>(properties, "DeviceAddress"))
        info.device_address = *v;
    if (auto v = detail::property_as<std::uint32_t>(properties, "Width"))
        info.width = *v;
    if (auto v = detail::property_as<std::uint32_t>(properties, "Height"))
        info.height = *v;
    if (auto v = detail::property_as<bool>(properties, "IsAbsolute"))
        info.mouse_is_absolute = *v;
    if (auto v = detail::property_as<std::uint32_t>(properties, "Modifiers"))
        info.keyboard_modifiers = *v;
    if (properties.contains("Interfaces"))
        info.lists_interfaces = true;
    return before.type != info.type || before.label != info.label || before.head != info.head ||
           before.device_address != info.device_address ||
           before.width != info.width || before.height != info.height ||
           before.mouse_is_absolute != info.mouse_is_absolute || before.keyboard_modifiers != info.keyboard_modifiers;
}

} // namespace

DisplayConnection::Impl::Impl(wl_event_loop* loop_in, std::string name, DisplayCallbacks callbacks)
    : loop(loop_in), guest_name(std::move(name)), callbacks_(std::move(callbacks)) {}

bool DisplayConnection::Impl::start(detail::BusPtr bus, std::string& error) {
    bus_ = std::move(bus);
    sd_bus* raw = bus_.get();
    // Client role, EXTERNAL auth (the default), no Hello: QEMU is the auth server and
    // there is no bus daemon in p2p mode.
    sd_bus_set_description(raw, "guestview-display");
    int r = sd_bus_start(raw);
    if (r < 0) {
        error = "sd_bus_start: " + errno_text(r);
        return false;
    }
    main_open_ = true;
    sd_bus_slot* slot = nullptr;
    // A local filter on a p2p connection (nothing is sent to QEMU).
    r = sd_bus_match_signal(raw, &slot, nullptr, nullptr, properties_interface, "PropertiesChanged",
                            on_properties_changed, this);
    if (r < 0) {
        error = "matching PropertiesChanged: " + errno_text(r);
        return false;
    }
    properties_match_.reset(slot);
    r = call_with_timeout(vm_path, properties_interface, "GetAll", &slot, on_vm_properties, this, "s",
                          "org.qemu.Display1.VM");
    if (r < 0) {
        error = "reading the VM object: " + errno_text(r);
        return false;
    }
    vm_call_.reset(slot);
    source_ = std::make_unique<detail::BusEventSource>(loop, raw, [this](std::string reason) {
        on_main_closed(std::move(reason));
    });
    clipboard_ = std::make_unique<detail::DisplayClipboard>(raw, guest_name, [this] { source_->rearm(); });
    return clipboard_->start(error);
}

DisplayConnection::Impl::ConsoleState* DisplayConnection::Impl::state(std::uint32_t id) {
    auto it = consoles_.find(id);
    return it == consoles_.end() ? nullptr : &it->second;
}

const DisplayConnection::Impl::ConsoleState* DisplayConnection::Impl::state(std::uint32_t id) const {
    auto it = consoles_.find(id);
    return it == consoles_.end() ? nullptr : &it->second;
}

bool DisplayConnection::Impl::anything_open() const {
    if (main_open_)
        return true;
    for (const auto& [id, console] : consoles_)
        if (console.listener)
            return true;
    return false;
}

int DisplayConnection::Impl::on_vm_properties(sd_bus_message* reply, void* data, sd_bus_error*) {
    auto* self = static_cast<Impl*>(data);
    if (const sd_bus_error* e = sd_bus_message_get_error(reply)) {
        self->abandon(fmt::format("reading the QEMU display VM object failed: {}", e->message ? e->message : e->name));
        return 0;
    }
    detail::PropertyMap properties;
    int r = detail::read_property_dict(reply, properties);
    if (r < 0) {
        log::error("guest {}: malformed VM properties: {}", self->guest_name, errno_text(r));
        return 0;
    }
    if (auto name = detail::property_as<std::string>(properties, "Name"))
        self->vm.name = *name;
    if (auto ids = detail::property_as<std::vector<std::uint32_t>>(properties, "ConsoleIDs"))
        self->vm.console_ids = *ids;
    log::info("guest {}: QEMU display '{}' with {} console(s)", self->guest_name, self->vm.name,
              self->vm.console_ids.size());
    for (std::uint32_t id : self->vm.console_ids)
        self->read_console(id);
    if (self->callbacks_.ready)
        self->callbacks_.ready(self->vm);
    return 0;
}

void DisplayConnection::Impl::read_console(std::uint32_t id) {
    ConsoleState& console = consoles_[id];
    console.owner = this;
    console.info.id = id;
    const std::string path = console_path(id);
    for (const char* interface : {console_interface, "org.qemu.Display1.Mouse", "org.qemu.Display1.Keyboard"}) {
        sd_bus_slot* slot = nullptr;
        int r = sd_bus_call_method_async(bus_.get(), &slot, nullptr, path.c_str(), properties_interface, "GetAll",
                                         on_console_properties, &console, "s", interface);
        if (r < 0) {
            log::error("guest {}: reading {} of console {} failed: {}", guest_name, interface, id, errno_text(r));
            continue;
        }
        console.calls.emplace_back(slot);
        ++console.property_reads_pending;
    }
}

int DisplayConnection::Impl::on_console_properties(sd_bus_message* reply, void* data, sd_bus_error*) {
    auto* console = static_cast<ConsoleState*>(data);
    Impl* self = console->owner;
    --console->property_reads_pending;
    if (const sd_bus_error* e = sd_bus_message_get_error(reply)) {
        // Text consoles have no Mouse/Keyboard on some versions: not fatal.
        log::warn("guest {}: reading console {} properties failed: {}", self->guest_name, console->info.id,
                  e->message ? e->message : e->name);
    } else {
        detail::PropertyMap properties;
        int r = detail::read_property_dict(reply, properties);
        if (r < 0)
            log::warn("guest {}: malformed console {} properties: {}", self->guest_name, console->info.id,
                      errno_text(r));
        apply_properties(console->info, properties);
        if (properties.contains("Type") && console->info.graphic() && !console->listener)
            self->attach_listener(*console);
    }
    if (console->property_reads_pending == 0 && self->callbacks_.console_changed)
        self->callbacks_.console_changed(console->info);
    return 0;
}

void DisplayConnection::Impl::attach_listener(ConsoleState& console) {
    const std::uint32_t id = console.info.id;
    const std::string log_name = fmt::format("{} console {}", guest_name, id);
    detail::ListenerCallbacks listener_callbacks{
        [this, id](const FrameEvent& event) {
            if (callbacks_.frame)
                callbacks_.frame(id, event);
        },
        [this, id] {
            if (callbacks_.display_off)
                callbacks_.display_off(id);
        },
        [this, id](const CursorShape& shape) {
            if (callbacks_.cursor)
                callbacks_.cursor(id, shape);
        },
        [this, id](const PointerPosition& position) {
            if (callbacks_.pointer)
                callbacks_.pointer(id, position);
        },
        [this, id](std::string reason) { on_listener_closed(id, std::move(reason)); },
    };
    std::string error;
    detail::UniqueFd qemu_end;
    console.listener = detail::ConsoleListener::create(loop, log_name, std::move(listener_callbacks), qemu_end, error);
    if (!console.listener) {
        log::error("guest {}: cannot create the display listener: {}", log_name, error);
        return;
    }
    // Async: QEMU authenticates the listener and reads its properties before it answers
    // anything else, so the loop must keep servicing the listener meanwhile.
    sd_bus_slot* slot = nullptr;
    int r = call_with_timeout(console_path(id).c_str(), console_interface, "RegisterListener", &slot,
                              on_register_reply, &console, "h", qemu_end.get());
    // sd-bus duplicated the fd into the message; ours closes with qemu_end.
    if (r < 0) {
        log::error("guest {}: RegisterListener failed: {}", log_name, errno_text(r));
        console.listener.reset();
        return;
    }
    console.calls.emplace_back(slot);
}

int DisplayConnection::Impl::on_register_reply(sd_bus_message* reply, void* data, sd_bus_error*) {
    auto* console = static_cast<ConsoleState*>(data);
    if (const sd_bus_error* e = sd_bus_message_get_error(reply))
        console->owner->abandon(fmt::format("console {}: RegisterListener failed: {}", console->info.id,
                                            e->message ? e->message : e->name));
    else
        log::info("guest {} console {} ({}): display listener registered", console->owner->guest_name,
                  console->info.id, console->info.label);
    return 0;
}

int DisplayConnection::Impl::on_properties_changed(sd_bus_message* signal, void* data, sd_bus_error*) {
    auto* self = static_cast<Impl*>(data);
    auto id = console_id_from_path(sd_bus_message_get_path(signal) ? sd_bus_message_get_path(signal) : "");
    if (!id)
        return 0;
    ConsoleState* console = self->state(*id);
    if (!console)
        return 0;
    const char* interface = nullptr;
    detail::PropertyMap properties;
    int r = sd_bus_message_read(signal, "s", &interface);
    if (r >= 0)
        r = detail::read_property_dict(signal, properties);
    if (r < 0) {
        log::warn("guest {}: malformed PropertiesChanged for console {}: {}", self->guest_name, *id, errno_text(r));
        return 0;
    }
    if (apply_properties(console->info, properties) && console->property_reads_pending == 0 &&
        self->callbacks_.console_changed)
        self->callbacks_.console_changed(console->info);
    return 0;
}

void DisplayConnection::Impl::abandon(std::string reason) {
    // Pending calls fail with an error when the bus closes for another reason: that close is
    // reported by itself.
    if (sd_bus_is_open(bus_.get()) <= 0 || !abandon_reason_.empty())
        return;
    log::error("guest {}: {}; dropping the display connection", guest_name, reason);
    abandon_reason_ = std::move(reason);
    abandon_idle_.reset(wl_event_loop_add_idle(loop, &on_abandon, this));
}

void DisplayConnection::Impl::on_abandon(void* data) {
    auto* self = static_cast<Impl*>(data);
    (void)self->abandon_idle_.release(); // wayland removes an idle source after dispatching it
    self->source_.reset();
    for (auto& [id, console] : self->consoles_) {
        console.listener.reset();
        console.held_keys.clear();
        console.held_buttons.clear();
    }
    sd_bus_close(self->bus_.get());
    self->main_open_ = false;
    Disconnect event{std::nullopt, self->abandon_reason_, true};
    if (self->callbacks_.disconnected)
        self->callbacks_.disconnected(event); // last: may destroy us
}

int DisplayConnection::Impl::call_async(const char* path, const char* interface, const char* method,
                                        sd_bus_slot** slot, sd_bus_message_handler_t handler, void* data,
                                        std::uint64_t timeout_usec, const char* signature, va_list args) {
    sd_bus_message* raw = nullptr;
    int r = sd_bus_message_new_method_call(bus_.get(), &raw, nullptr, path, interface, method);
    if (r < 0)
        return r;
    detail::MessagePtr message(raw);
    r = sd_bus_message_appendv(raw, signature, args);
    if (r < 0)
        return r;
    r = sd_bus_call_async(bus_.get(), slot, raw, handler, data, timeout_usec);
    if (r >= 0 && source_)
        source_->rearm(); // the write may need POLLOUT, the reply a timeout
    return r;
}

int DisplayConnection::Impl::call_with_timeout(const char* path, const char* interface, const char* method,
                                               sd_bus_slot** slot, sd_bus_message_handler_t handler, void* data,
                                               const char* signature, ...) {
    va_list args;
    va_start(args, signature);
    const int r = call_async(path, interface, method, slot, handler, data, setup_timeout_usec, signature, args);
    va_end(args);
    return r;
}

void DisplayConnection::Impl::on_main_closed(std::string reason) {
    main_open_ = false;
    log::warn("guest {}: display connection closed: {} (QEMU exited, the guest stopped, or another client "
              "attached and replaced us)",
              guest_name, reason);
    for (auto& [id, console] : consoles_) {
        // Nothing can be released over a closed connection; QEMU lifts held keys itself
        // when the console's listener goes.
        console.held_keys.clear();
        console.held_buttons.clear();
    }
    Disconnect event{std::nullopt, std::move(reason), !anything_open()};
    if (callbacks_.disconnected)
        callbacks_.disconnected(event); // last: may destroy us
}

void DisplayConnection::Impl::on_listener_closed(std::uint32_t id, std::string reason) {
    ConsoleState* console = state(id);
    log::warn("guest {} console {}: display listener closed: {}", guest_name, id, reason);
    console->stats_before_listener = console->listener->frames().stats();
    console->listener.reset();
    Disconnect event{id, std::move(reason), !anything_open()};
    if (callbacks_.disconnected)
        callbacks_.disconnected(event); // last: may destroy us
}

int DisplayConnection::Impl::call_console(std::uint32_t id, sd_bus_slot** slot, sd_bus_message_handler_t handler,
                                          void* data, const char* interface, const char* method,
                                          const char* signature, ...) {
    va_list args;
    va_start(args, signature);
    const int r = call_async(console_path(id).c_str(), interface, method, slot, handler, data, 0, signature, args);
    va_end(args);
    return r;
}

// ---- DisplayConnection: thin forwarding to Impl ----

DisplayConnection::DisplayConnection(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
DisplayConnection::~DisplayConnection() = default;

std::unique_ptr<DisplayConnection> DisplayConnection::from_fd(wl_event_loop* loop, int socket_fd,
                                                              std::string guest_name, DisplayCallbacks callbacks,
                                                              std::string& error) {
    detail::UniqueFd fd(socket_fd);
    sd_bus* raw = nullptr;
    int r = sd_bus_new(&raw);
    if (r < 0) {
        error = "sd_bus_new: " + errno_text(r);
        return nullptr;
    }
    detail::BusPtr bus(raw);
    r = sd_bus_set_fd(raw, fd.get(), fd.get());
    if (r < 0) {
        error = "sd_bus_set_fd: " + errno_text(r);
        return nullptr;
    }
    fd.release(); // the bus owns it now
    auto impl = std::make_unique<Impl>(loop, std::move(guest_name), std::move(callbacks));
    if (!impl->start(std::move(bus), error))
        return nullptr;
    return std::make_unique<DisplayConnection>(std::move(impl));
}

std::unique_ptr<DisplayConnection> DisplayConnection::connect(wl_event_loop* loop, std::string_view address,
                                                              std::string guest_name, DisplayCallbacks callbacks,
                                                              std::string& error) {
    if (!address.starts_with("unix:")) {
        error = fmt::format("'{}' is not a unix: D-Bus address", address);
        return nullptr;
    }
    sd_bus* raw = nullptr;
    int r = sd_bus_new(&raw);
    if (r < 0) {
        error = "sd_bus_new: " + errno_text(r);
        return nullptr;
    }
    detail::BusPtr bus(raw);
    r = sd_bus_set_address(raw, std::string(address).c_str());
    if (r < 0) {
        error = fmt::format("bad D-Bus address '{}': {}", address, errno_text(r));
        return nullptr;
    }
    auto impl = std::make_unique<Impl>(loop, std::move(guest_name), std::move(callbacks));
    if (!impl->start(std::move(bus), error))
        return nullptr;
    return std::make_unique<DisplayConnection>(std::move(impl));
}

const std::string& DisplayConnection::guest_name() const { return impl_->guest_name; }
const VmInfo& DisplayConnection::vm() const { return impl_->vm; }
bool DisplayConnection::main_connected() const { return impl_->main_open(); }

const ConsoleInfo* DisplayConnection::console(std::uint32_t id) const {
    const auto* state = impl_->state(id);
    return state ? &state->info : nullptr;
}

std::shared_ptr<const Frame> DisplayConnection::current_frame(std::uint32_t console) const {
    const auto* state = impl_->state(console);
    return state && state->listener ? state->listener->frames().current() : nullptr;
}

void DisplayConnection::collect_frames(std::vector<const Frame*>& out) const {
    for (const auto& [id, console] : impl_->consoles())
        if (console.listener)
            console.listener->frames().collect_frames(out);
}

FrameStats DisplayConnection::stats(std::uint32_t console) const {
    const auto* state = impl_->state(console);
    if (!state)
        return {};
    return state->listener ? state->listener->frames().stats() : state->stats_before_listener;
}

void DisplayConnection::key(std::uint32_t console, std::uint32_t qnum, bool pressed) {
    impl_->key(console, qnum, pressed);
}
void DisplayConnection::pointer_absolute(std::uint32_t console, std::uint32_t x, std::uint32_t y) {
    impl_->pointer_absolute(console, x, y);
}
void DisplayConnection::pointer_relative(std::uint32_t console, std::int32_t dx, std::int32_t dy) {
    impl_->pointer_relative(console, dx, dy);
}
void DisplayConnection::button(std::uint32_t console, std::uint32_t button, bool pressed) {
    impl_->button(console, button, pressed);
}
void DisplayConnection::wheel(std::uint32_t console, MouseButton direction) {
    impl_->button(console, static_cast<std::uint32_t>(direction), true);
    impl_->button(console, static_cast<std::uint32_t>(direction), false);
}
void DisplayConnection::set_ui_info(std::uint32_t console, std::uint16_t width_mm, std::uint16_t height_mm,
                                    std::uint32_t width, std::uint32_t height) {
    impl_->set_ui_info(console, width_mm, height_mm, width, height);
}
void DisplayConnection::release_all_input(std::uint32_t console) { impl_->release_all_input(console); }

std::set<std::uint32_t> DisplayConnection::held_keys(std::uint32_t console) const {
    const auto* state = impl_->state(console);
    return state ? state->held_keys : std::set<std::uint32_t>{};
}
std::set<std::uint32_t> DisplayConnection::held_buttons(std::uint32_t console) const {
    const auto* state = impl_->state(console);
    return state ? state->held_buttons : std::set<std::uint32_t>{};
}

InputStats DisplayConnection::input_stats() const { return impl_->input_stats; }


} // namespace phyllome::guestview
