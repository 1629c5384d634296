#include "guestview/display/console_listener.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <span>
#include <vector>

#include "config/log.hpp"
#include "guestview/display/listener_bus.hpp"

namespace phyllome::guestview::detail {
namespace {

constexpr const char* listener_path = "/org/qemu/Display1/Listener";
constexpr const char* error_invalid = "org.qemu.Display1.Error.Invalid";
constexpr std::int32_t max_cursor_side = 1024;

std::shared_ptr<const void> keep_message(sd_bus_message* m) {
    return std::shared_ptr<const void>(sd_bus_message_ref(m), [](const void* p) {
        sd_bus_message_unref(static_cast<sd_bus_message*>(const_cast<void*>(p)));
    });
}

// sd-bus reports failures as negative errno.
std::string errno_text(int r) { return std::strerror(-r); }

} // namespace

ConsoleListener::ConsoleListener(Key, wl_event_loop* loop, std::string log_name, ListenerCallbacks callbacks)
    : loop_(loop), log_name_(std::move(log_name)), callbacks_(std::move(callbacks)),
      alive_(std::make_shared<ConsoleListener*>(this)) {}

ConsoleListener::~ConsoleListener() {
    // QEMU gets its reply even if we go away mid-sample (if the socket takes it now).
    if (pending_dmabuf_update_)
        sd_bus_reply_method_return(pending_dmabuf_update_.get(), "");
}

std::unique_ptr<ConsoleListener> ConsoleListener::create(wl_event_loop* loop, std::string log_name,
                                                         ListenerCallbacks callbacks, UniqueFd& qemu_end,
                                                         std::string& error) {
    static const sd_bus_vtable base_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Interfaces", "as", get_interfaces, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_METHOD("Scanout", "uuuuay", "", on_scanout, 0),
        SD_BUS_METHOD("Update", "iiiiuuay", "", on_update, 0),
        SD_BUS_METHOD("ScanoutDMABUF", "huuuutb", "", on_scanout_dmabuf, 0),
        SD_BUS_METHOD("UpdateDMABUF", "iiii", "", on_update_dmabuf, 0),
        SD_BUS_METHOD("Disable", "", "", on_disable, 0),
        SD_BUS_METHOD("MouseSet", "iii", "", on_mouse_set, 0),
        SD_BUS_METHOD("CursorDefine", "iiiiay", "", on_cursor_define, 0),
        SD_BUS_VTABLE_END,
    };
    static const sd_bus_vtable map_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD("ScanoutMap", "huuuuu", "", on_scanout_map, 0),
        SD_BUS_METHOD("UpdateMap", "iiii", "", on_update_map, 0),
        SD_BUS_VTABLE_END,
    };
    static const sd_bus_vtable dmabuf2_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD("ScanoutDMABUF2", "ahuuuuauauuuuutb", "", on_scanout_dmabuf2, 0),
        SD_BUS_VTABLE_END,
    };

    auto self = std::make_unique<ConsoleListener>(Key{}, loop, std::move(log_name), std::move(callbacks));
    self->bus_ = new_listener_bus("guestview-listener", qemu_end, error);
    if (!self->bus_)
        return nullptr;
    sd_bus* raw = self->bus_.get();
    // Export before RegisterListener: QEMU asks for the object's properties right after
    // registering and blocks its main loop until it gets them.
    sd_bus_slot* slot = nullptr;
    int r = sd_bus_add_object_vtable(raw, &slot, listener_path, "org.qemu.Display1.Listener", base_vtable, self.get());
    if (r < 0) {
        error = "exporting org.qemu.Display1.Listener: " + errno_text(r);
        return nullptr;
    }
    self->listener_slot_.reset(slot);
    r = sd_bus_add_object_vtable(raw, &slot, listener_path, listener_extension_map, map_vtable, self.get());
    if (r < 0) {
        error = "exporting Listener.Unix.Map: " + errno_text(r);
        return nullptr;
    }
    self->map_slot_.reset(slot);
    r = sd_bus_add_object_vtable(raw, &slot, listener_path, listener_extension_dmabuf2, dmabuf2_vtable, self.get());
    if (r < 0) {
        error = "exporting Listener.Unix.ScanoutDMABUF2: " + errno_text(r);
        return nullptr;
    }
    self->dmabuf2_slot_.reset(slot);
    r = sd_bus_start(raw);
    if (r < 0) {
        error = "sd_bus_start: " + errno_text(r);
        return nullptr;
    }
    ConsoleListener* listener = self.get();
    self->source_ = std::make_unique<BusEventSource>(loop, raw, [listener](std::string reason) {
        auto closed = listener->callbacks_.closed;
        if (closed)
            closed(std::move(reason));
    });
    self->reply_timer_.reset(wl_event_loop_add_timer(loop, on_reply_timer, self.get()));
    return self;
}

int ConsoleListener::get_interfaces(sd_bus*, const char*, const char*, const char*, sd_bus_message* reply, void*,
                                    sd_bus_error*) {
    // Exactly the extension vtables create() exports: QEMU calls whatever is listed.
    return sd_bus_message_append(reply, "as", 2, listener_extension_map, listener_extension_dmabuf2);
}

int ConsoleListener::refuse(sd_bus_message* m, const std::string& what) {
    log::warn("guest {}: refused {}", log_name_, what);
    return sd_bus_reply_method_errorf(m, error_invalid, "%s", what.c_str());
}

int ConsoleListener::refuse_unassembled(sd_bus_message* m, const std::string& what) {
    assembler_.count_refusal();
    return refuse(m, what);
}

int ConsoleListener::deliver(sd_bus_message* m, AssemblyResult result) {
    if (!result.event)
        return refuse(m, result.refusal); // the assembler counted it
    if (callbacks_.frame)
        callbacks_.frame(*result.event);
    return sd_bus_reply_method_return(m, "");
}

int ConsoleListener::on_scanout(sd_bus_message* m, void* data, sd_bus_error*) {
    auto* self = static_cast<ConsoleListener*>(data);
    std::uint32_t width = 0, height = 0, stride = 0, format = 0;
    const void* pixels = nullptr;
    std::size_t size = 0;
    int r = sd_bus_message_read(m, "uuuu", &width, &height, &stride, &format);
    if (r >= 0)
        r = sd_bus_message_read_array(m, 'y', &pixels, &size);
    if (r < 0) // -EBADMSG: the array is over sd-bus's 64 MiB limit
        return self->refuse_unassembled(m, fmt::format("Scanout: unreadable message ({})", errno_text(r)));
    return self->deliver(m, self->assembler_.scanout(width, height, stride, format,
                                                     {static_cast<const std::uint8_t*>(pixels), size},
                                                     keep_message(m)));
}

int ConsoleListener::on_update(sd_bus_message* m, void* data, sd_bus_error*) {
    auto* self = static_cast<ConsoleListener*>(data);
    std::int32_t x = 0, y = 0, width = 0, height = 0;
    std::uint32_t stride = 0, format = 0;
    const void* pixels = nullptr;
    std::size_t size = 0;
    int r = sd_bus_message_read(m, "iiiiuu", &x, &y, &width, &height, &stride, &format);
    if (r >= 0)
        r = sd_bus_message_read_array(m, 'y', &pixels, &size);
    if (r < 0)
        return self->refuse_unassembled(m, fmt::format("Update: unreadable message ({})", errno_text(r)));
    return self->deliver(m, self->assembler_.update(x, y, width, height, stride, format,
                                                    {static_cast<const std::uint8_t*>(pixels), size}));
}

int ConsoleListener::on_scanout_map(sd_bus_message* m, void* data, sd_bus_error*) {
    auto* self = static_cast<ConsoleListener*>(data);
    int fd = -1;
    std::uint32_t offset = 0, width = 0, height = 0, stride = 0, format = 0;
    int r = sd_bus_message_read(m, "huuuuu", &fd, &offset, &width, &height, &stride, &format);
    if (r < 0)
        return self->refuse_unassembled(m, fmt::format("ScanoutMap: unreadable message ({})", errno_text(r)));
    // QEMU waits for this reply (1 s); an error makes it fall back to Scanout/Update.
    return self->deliver(m, self->assembler_.scanout_map(fd, offset, width, height, stride, format));
}

int ConsoleListener::on_update_map(sd_bus_message* m, void* data, sd_bus_error*) {
    auto* self = static_cast<ConsoleListener*>(data);
    std::int32_t x = 0, y = 0, width = 0, height = 0;
    int r = sd_bus_message_read(m, "iiii", &x, &y, &width, &height);
    if (r < 0)
        return self->refuse_unassembled(m, fmt::format("UpdateMap: unreadable message ({})", errno_text(r)));
    return self->deliver(m, self->assembler_.update_map(x, y, width, height));
}

int ConsoleListener::on_scanout_dmabuf(sd_bus_message* m, void* data, sd_bus_error*) {
    auto* self = static_cast<ConsoleListener*>(data);
    int fd = -1, y0_top = 0;
    std::uint32_t width = 0, height = 0, stride = 0, fourcc = 0;
    std::uint64_t modifier = 0;
    int r = sd_bus_message_read(m, "huuuutb", &fd, &width, &height, &stride, &fourcc, &modifier, &y0_top);
    if (r < 0)
        return self->refuse_unassembled(m, fmt::format("ScanoutDMABUF: unreadable message ({})", errno_text(r)));
    return self->deliver(m, self->assembler_.scanout_dmabuf(fd, width, height, stride, fourcc, modifier,
                                                            y0_top != 0));
}

namespace {

// The `au` arrays of ScanoutDMABUF2. sd-bus hands out a pointer into the message (4-aligned);
// it stays valid while the message is being handled.
int read_u32_array(sd_bus_message* m, std::span<const std::uint32_t>& out) {
    const void* data = nullptr;
    std::size_t size = 0;
    const int r = sd_bus_message_read_array(m, 'u', &data, &size);
    if (r >= 0)
        out = {static_cast<const std::uint32_t*>(data), size / sizeof(std::uint32_t)};
    return r;
}

// The `ah` array: fds are not a trivial type for sd_bus_message_read_array, so one at a time.
// The message owns them; every one it carries is read so the assembler can compare the count
// with num_planes (the kernel limits a message to a few hundred fds).
int read_fd_array(sd_bus_message* m, std::vector<int>& out) {
    int r = sd_bus_message_enter_container(m, 'a', "h");
    if (r < 0)
        return r;
    int fd = -1;
    while ((r = sd_bus_message_read_basic(m, 'h', &fd)) > 0)
        out.push_back(fd);
    if (r < 0)
        return r;
    return sd_bus_message_exit_container(m);
}

} // namespace

int ConsoleListener::on_scanout_dmabuf2(sd_bus_message* m, void* data, sd_bus_error*) {
    auto* self = static_cast<ConsoleListener*>(data);
    std::vector<int> fds;
    Dmabuf2Message message;
    int y0_top = 0;
    int r = read_fd_array(m, fds);
    if (r >= 0)
        r = sd_bus_message_read(m, "uuuu", &message.x, &message.y, &message.width, &message.height);
    if (r >= 0)
        r = read_u32_array(m, message.offsets);
    if (r >= 0)
        r = read_u32_array(m, message.strides);
    if (r >= 0)
        r = sd_bus_message_read(m, "uuuutb", &message.num_planes, &message.fourcc, &message.backing_width,
                                &message.backing_height, &message.modifier, &y0_top);
    if (r < 0)
        return self->refuse_unassembled(m, fmt::format("ScanoutDMABUF2: unreadable message ({})", errno_text(r)));
    message.fds = fds;
    message.y0_top = y0_top != 0;
    return self->deliver(m, self->assembler_.scanout_dmabuf2(message));
}

int ConsoleListener::on_update_dmabuf(sd_bus_message* m, void* data, sd_bus_error*) {
    auto* self = static_cast<ConsoleListener*>(data);
    std::int32_t x = 0, y = 0, width = 0, height = 0;
    int r = sd_bus_message_read(m, "iiii", &x, &y, &width, &height);
    if (r < 0)
        return self->refuse_unassembled(m, fmt::format("UpdateDMABUF: unreadable message ({})", errno_text(r)));
    auto result = self->assembler_.update_dmabuf(x, y, width, height);
    if (!result.event)
        return self->refuse(m, result.refusal);
    // QEMU holds guest GL rendering until this call is answered: answer an older one now,
    // keep this one until the compositor is done sampling or the fallback timer fires.
    if (self->pending_dmabuf_update_)
        self->reply_dmabuf_update(self->dmabuf_update_serial_);
    const std::uint64_t serial = ++self->dmabuf_update_serial_;
    self->pending_dmabuf_update_ = ref_message(m);
    wl_event_source_timer_update(self->reply_timer_.get(), dmabuf_reply_fallback_ms);
    std::weak_ptr<ConsoleListener*> alive = self->alive_;
    result.event->sampling_done = std::make_shared<SamplingDone>([alive, serial] {
        if (auto listener = alive.lock())
            (*listener)->reply_dmabuf_update(serial);
    });
    if (self->callbacks_.frame)
        self->callbacks_.frame(*result.event);
    return 1; // replied (or will reply) through reply_dmabuf_update
}

void ConsoleListener::reply_dmabuf_update(std::uint64_t serial) {
    if (!pending_dmabuf_update_ || serial != dmabuf_update_serial_)
        return;
    MessagePtr call = std::move(pending_dmabuf_update_);
    wl_event_source_timer_update(reply_timer_.get(), 0);
    const int r = sd_bus_reply_method_return(call.get(), "");
    if (r < 0)
        log::debug("guest {}: replying to UpdateDMABUF failed: {}", log_name_, errno_text(r));
    if (source_)
        source_->rearm(); // the reply may need POLLOUT
}

int ConsoleListener::on_reply_timer(void* data) {
    auto* self = static_cast<ConsoleListener*>(data);
    log::debug("guest {}: compositor still sampling after {} ms, answering UpdateDMABUF", self->log_name_,
               dmabuf_reply_fallback_ms);
    self->reply_dmabuf_update(self->dmabuf_update_serial_);
    return 0;
}

int ConsoleListener::on_disable(sd_bus_message* m, void* data, sd_bus_error*) {
    auto* self = static_cast<ConsoleListener*>(data);
    self->assembler_.disable();
    if (self->callbacks_.display_off)
        self->callbacks_.display_off();
    return sd_bus_reply_method_return(m, "");
}

int ConsoleListener::on_mouse_set(sd_bus_message* m, void* data, sd_bus_error*) {
    auto* self = static_cast<ConsoleListener*>(data);
    std::int32_t x = 0, y = 0, on = 0;
    int r = sd_bus_message_read(m, "iii", &x, &y, &on);
    if (r < 0)
        return self->refuse_unassembled(m, fmt::format("MouseSet: unreadable message ({})", errno_text(r)));
    if (self->callbacks_.pointer)
        self->callbacks_.pointer(PointerPosition{x, y, on != 0});
    return sd_bus_reply_method_return(m, "");
}

int ConsoleListener::on_cursor_define(sd_bus_message* m, void* data, sd_bus_error*) {
    auto* self = static_cast<ConsoleListener*>(data);
    std::int32_t width = 0, height = 0, hot_x = 0, hot_y = 0;
    const void* pixels = nullptr;
    std::size_t size = 0;
    int r = sd_bus_message_read(m, "iiii", &width, &height, &hot_x, &hot_y);
    if (r >= 0)
        r = sd_bus_message_read_array(m, 'y', &pixels, &size);
    if (r < 0)
        return self->refuse_unassembled(m, fmt::format("CursorDefine: unreadable message ({})", errno_text(r)));
    if (width <= 0 || height <= 0 || width > max_cursor_side || height > max_cursor_side)
        return self->refuse_unassembled(m, fmt::format("CursorDefine: cursor size {}x{}", width, height));
    const std::size_t needed = std::size_t(width) * std::size_t(height) * 4;
    if (size != needed)
        return self->refuse_unassembled(m, fmt::format("CursorDefine: {} data bytes for {}x{} ARGB (needs {})", size, width,
                                           height, needed));
    // Cursors are small and rare: a private copy keeps the event independent of the message.
    auto argb = std::make_shared<std::uint8_t[]>(needed);
    std::memcpy(argb.get(), pixels, needed);
    CursorShape shape{width, height, std::clamp(hot_x, 0, width - 1), std::clamp(hot_y, 0, height - 1),
                      std::move(argb)};
    if (self->callbacks_.cursor)
        self->callbacks_.cursor(shape);
    return sd_bus_reply_method_return(m, "");
}

} // namespace phyllome::guestview::detail
