#include "xdg_client.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>

#include <wayland-client.h>

#include "xdg-shell-client-protocol.h"

namespace phyllome::test {

struct XdgClient::State {
    XdgClient* self = nullptr;
    wl_compositor* compositor = nullptr;
    wl_shm* shm = nullptr;
    wl_seat* seat = nullptr;
    wl_keyboard* keyboard = nullptr;
    xdg_wm_base* wm_base = nullptr;
    wl_surface* surface = nullptr;
    xdg_surface* xsurface = nullptr;
    xdg_toplevel* toplevel = nullptr;
    wl_buffer* buffer = nullptr;
    int pending_width = 0, pending_height = 0;
    bool pending_fullscreen = false;
    std::uint32_t colour = 0;
    int pushes = 0;
};

namespace {

using State = XdgClient::State;

// A solid shm buffer in the client's colour of the configured size (or 64x64 before any size is given).
wl_buffer* make_buffer(State& s, int width, int height) {
    const int stride = width * 4, size = stride * height;
    const int fd = memfd_create("xdg-client", MFD_CLOEXEC);
    if (fd < 0 || ftruncate(fd, size) != 0)
        return nullptr;
    if (void* p = mmap(nullptr, static_cast<std::size_t>(size), PROT_WRITE, MAP_SHARED, fd, 0); p != MAP_FAILED) {
        std::fill_n(static_cast<std::uint32_t*>(p), static_cast<std::size_t>(width) * height, s.colour);
        munmap(p, static_cast<std::size_t>(size));
    }
    wl_shm_pool* pool = wl_shm_create_pool(s.shm, fd, size);
    wl_buffer* buffer = wl_shm_pool_create_buffer(pool, 0, width, height, stride, WL_SHM_FORMAT_XRGB8888);
    wl_shm_pool_destroy(pool);
    close(fd);
    return buffer;
}

const wl_keyboard_listener keyboard_listener = {
    .keymap = [](void*, wl_keyboard*, uint32_t, int fd, uint32_t) { close(fd); },
    .enter = [](void* data, wl_keyboard*, uint32_t, wl_surface*, wl_array*) {
        static_cast<State*>(data)->self->on_focus(true);
    },
    .leave = [](void* data, wl_keyboard*, uint32_t, wl_surface*) {
        static_cast<State*>(data)->self->on_focus(false);
    },
    .key = [](void* data, wl_keyboard*, uint32_t, uint32_t, uint32_t key, uint32_t state) {
        if (state == WL_KEYBOARD_KEY_STATE_PRESSED)
            static_cast<State*>(data)->self->on_key(key);
    },
    .modifiers = [](void*, wl_keyboard*, uint32_t, uint32_t, uint32_t, uint32_t, uint32_t) {},
    .repeat_info = [](void*, wl_keyboard*, int32_t, int32_t) {},
};

const wl_seat_listener seat_listener = {
    .capabilities = [](void* data, wl_seat* seat, uint32_t caps) {
        auto& s = *static_cast<State*>(data);
        if ((caps & WL_SEAT_CAPABILITY_KEYBOARD) && !s.keyboard) {
            s.keyboard = wl_seat_get_keyboard(seat);
            wl_keyboard_add_listener(s.keyboard, &keyboard_listener, &s);
        }
    },
    .name = [](void*, wl_seat*, const char*) {},
};

const xdg_wm_base_listener wm_base_listener = {
    .ping = [](void*, xdg_wm_base* base, uint32_t serial) { xdg_wm_base_pong(base, serial); },
};

const wl_registry_listener registry_listener = {
    .global = [](void* data, wl_registry* registry, uint32_t name, const char* interface, uint32_t) {
        auto& s = *static_cast<State*>(data);
        if (std::strcmp(interface, wl_compositor_interface.name) == 0)
            s.compositor = static_cast<wl_compositor*>(wl_registry_bind(registry, name, &wl_compositor_interface, 4));
        else if (std::strcmp(interface, wl_shm_interface.name) == 0)
            s.shm = static_cast<wl_shm*>(wl_registry_bind(registry, name, &wl_shm_interface, 1));
        else if (std::strcmp(interface, wl_seat_interface.name) == 0) {
            s.seat = static_cast<wl_seat*>(wl_registry_bind(registry, name, &wl_seat_interface, 5));
            wl_seat_add_listener(s.seat, &seat_listener, &s);
        } else if (std::strcmp(interface, xdg_wm_base_interface.name) == 0) {
            s.wm_base = static_cast<xdg_wm_base*>(wl_registry_bind(registry, name, &xdg_wm_base_interface, 2));
            xdg_wm_base_add_listener(s.wm_base, &wm_base_listener, &s);
        }
    },
    .global_remove = [](void*, wl_registry*, uint32_t) {},
};

const xdg_toplevel_listener toplevel_listener = {
    .configure = [](void* data, xdg_toplevel*, int32_t width, int32_t height, wl_array* states) {
        auto& s = *static_cast<State*>(data);
        s.pending_width = width;
        s.pending_height = height;
        s.pending_fullscreen = false;
        const auto* begin = static_cast<const uint32_t*>(states->data);
        for (std::size_t i = 0; i < states->size / sizeof(uint32_t); ++i)
            if (begin[i] == XDG_TOPLEVEL_STATE_FULLSCREEN)
                s.pending_fullscreen = true;
    },
    .close = [](void*, xdg_toplevel*) {},
};

const xdg_surface_listener surface_listener = {
    .configure = [](void* data, xdg_surface* xsurface, uint32_t serial) {
        auto& s = *static_cast<State*>(data);
        xdg_surface_ack_configure(xsurface, serial);
        const int w = s.pending_width > 0 ? s.pending_width : 64, h = s.pending_height > 0 ? s.pending_height : 64;
        if (s.buffer)
            wl_buffer_destroy(s.buffer);
        s.buffer = make_buffer(s, w, h);
        wl_surface_attach(s.surface, s.buffer, 0, 0);
        wl_surface_damage(s.surface, 0, 0, w, h);
        wl_surface_commit(s.surface);
        s.self->on_configured(s.pending_width, s.pending_height, s.pending_fullscreen);
    },
};

} // namespace

XdgClient::XdgClient(std::string display, Options options) : options_(options) {
    if (pipe2(wake_, O_CLOEXEC) != 0)
        failed_ = true;
    thread_ = std::thread([this, display = std::move(display)] { run(display); });
}

XdgClient::~XdgClient() {
    stop_ = true;
    if (wake_[1] >= 0 && write(wake_[1], "x", 1) < 0) {
    }
    thread_.join();
    for (int fd : wake_)
        if (fd >= 0)
            close(fd);
}

std::vector<std::uint32_t> XdgClient::keys_pressed() const {
    std::lock_guard lock(mutex_);
    return keys_;
}

void XdgClient::run(std::string name) {
    wl_display* display = wl_display_connect(name.c_str());
    if (!display) {
        failed_ = true;
        return;
    }
    State s;
    s.self = this;
    s.colour = options_.colour;
    wl_registry* registry = wl_display_get_registry(display);
    wl_registry_add_listener(registry, &registry_listener, &s);
    wl_display_roundtrip(display);
    if (!s.compositor || !s.shm || !s.wm_base) {
        failed_ = true;
    } else {
        s.surface = wl_compositor_create_surface(s.compositor);
        s.xsurface = xdg_wm_base_get_xdg_surface(s.wm_base, s.surface);
        xdg_surface_add_listener(s.xsurface, &surface_listener, &s);
        s.toplevel = xdg_surface_get_toplevel(s.xsurface);
        xdg_toplevel_add_listener(s.toplevel, &toplevel_listener, &s);
        xdg_toplevel_set_title(s.toplevel, "phyllome test window");
        wl_surface_commit(s.surface); // the initial commit: the compositor answers with a configure
        while (!stop_) {
            wl_display_flush(display);
            pollfd fds[2] = {{wl_display_get_fd(display), POLLIN, 0}, {wake_[0], POLLIN, 0}};
            if (wl_display_prepare_read(display) != 0) {
                wl_display_dispatch_pending(display);
                continue;
            }
            if (options_.pushy && s.buffer) {
                xdg_toplevel_set_fullscreen(s.toplevel, nullptr);
                xdg_toplevel_set_maximized(s.toplevel);
                xdg_toplevel_set_title(s.toplevel, ("look at me " + std::to_string(++s.pushes)).c_str());
                wl_surface_damage_buffer(s.surface, 0, 0, INT32_MAX, INT32_MAX);
                wl_surface_commit(s.surface);
                wl_display_flush(display);
            }
            if (poll(fds, 2, options_.pushy ? 20 : 1000) > 0 && (fds[0].revents & POLLIN)) {
                if (wl_display_read_events(display) != 0)
                    break;
            } else {
                wl_display_cancel_read(display);
            }
            if (wl_display_dispatch_pending(display) < 0)
                break;
        }
        xdg_toplevel_destroy(s.toplevel);
        xdg_surface_destroy(s.xsurface);
        wl_surface_destroy(s.surface);
        if (s.buffer)
            wl_buffer_destroy(s.buffer);
    }
    if (s.keyboard)
        wl_keyboard_destroy(s.keyboard);
    if (s.seat)
        wl_seat_destroy(s.seat);
    if (s.wm_base)
        xdg_wm_base_destroy(s.wm_base);
    if (s.shm)
        wl_shm_destroy(s.shm);
    if (s.compositor)
        wl_compositor_destroy(s.compositor);
    wl_registry_destroy(registry);
    wl_display_disconnect(display);
}

} // namespace phyllome::test
