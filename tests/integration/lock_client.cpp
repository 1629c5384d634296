// A small ext-session-lock-v1 locker for the session lock tests: it locks, fills one lock surface
// per output (new outputs too) with a known colour, says "locked" on stdout, prints every key it
// gets ("key CODE STATE"), and on an "unlock" line on stdin unlocks and exits 0. End of stdin
// (the test dropping it, or --no-stdin never reading it) leaves it locked until killed; "quit"
// disconnects without unlocking (a locker that goes away).
//   lock_client [--no-stdin] [--colour RRGGBB]
#include <poll.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <list>
#include <string>

#include <wayland-client.h>

#include "ext-session-lock-v1-client-protocol.h"

namespace {

struct Output {
    wl_output* output = nullptr;
    std::uint32_t name = 0;
    wl_surface* surface = nullptr;
    ext_session_lock_surface_v1* lock_surface = nullptr;
    wl_buffer* buffer = nullptr;
};

struct Client {
    wl_display* display = nullptr;
    wl_compositor* compositor = nullptr;
    wl_shm* shm = nullptr;
    wl_seat* seat = nullptr;
    wl_keyboard* keyboard = nullptr;
    ext_session_lock_manager_v1* manager = nullptr;
    ext_session_lock_v1* lock = nullptr;
    std::list<Output> outputs;
    std::list<std::pair<Client*, Output*>> surface_data; // stable addresses for the surface listeners
    std::uint32_t colour = 0x2040a0;
    bool locked_event = false;
};

void say(const char* line) {
    std::printf("%s\n", line);
    std::fflush(stdout);
}

wl_buffer* solid_buffer(Client& c, int width, int height) {
    const int stride = width * 4;
    const std::size_t size = static_cast<std::size_t>(stride) * height;
    const int fd = memfd_create("lock-client", MFD_CLOEXEC);
    if (fd < 0 || ftruncate(fd, static_cast<off_t>(size)) < 0)
        std::exit(5);
    void* data = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (data == MAP_FAILED)
        std::exit(5);
    auto* pixels = static_cast<std::uint32_t*>(data);
    for (std::size_t i = 0; i < size / 4; ++i)
        pixels[i] = c.colour;
    munmap(data, size);
    wl_shm_pool* pool = wl_shm_create_pool(c.shm, fd, static_cast<int32_t>(size));
    wl_buffer* buffer = wl_shm_pool_create_buffer(pool, 0, width, height, stride, WL_SHM_FORMAT_XRGB8888);
    wl_shm_pool_destroy(pool);
    close(fd);
    return buffer;
}

void surface_configure(void* data, ext_session_lock_surface_v1* lock_surface, std::uint32_t serial, std::uint32_t width,
                       std::uint32_t height) {
    auto* pair = static_cast<std::pair<Client*, Output*>*>(data);
    Output& o = *pair->second;
    ext_session_lock_surface_v1_ack_configure(lock_surface, serial);
    if (o.buffer)
        wl_buffer_destroy(o.buffer);
    o.buffer = solid_buffer(*pair->first, static_cast<int>(width), static_cast<int>(height));
    wl_surface_attach(o.surface, o.buffer, 0, 0);
    wl_surface_damage(o.surface, 0, 0, static_cast<int32_t>(width), static_cast<int32_t>(height));
    wl_surface_commit(o.surface);
}
const ext_session_lock_surface_v1_listener surface_listener = {surface_configure};

void add_lock_surface(Client& c, Output& o) {
    if (!c.lock || o.lock_surface)
        return;
    o.surface = wl_compositor_create_surface(c.compositor);
    o.lock_surface = ext_session_lock_v1_get_lock_surface(c.lock, o.surface, o.output);
    c.surface_data.emplace_back(&c, &o);
    ext_session_lock_surface_v1_add_listener(o.lock_surface, &surface_listener, &c.surface_data.back());
}

// Said once the surfaces' commits are flushed too (see main), so the test's next screenshot shows them.
void lock_locked(void* data, ext_session_lock_v1*) { static_cast<Client*>(data)->locked_event = true; }
void lock_finished(void*, ext_session_lock_v1*) {
    say("finished");
    std::exit(3);
}
const ext_session_lock_v1_listener lock_listener = {lock_locked, lock_finished};

void key_keymap(void*, wl_keyboard*, std::uint32_t, int fd, std::uint32_t) { close(fd); }
void key_enter(void*, wl_keyboard*, std::uint32_t, wl_surface*, wl_array*) { say("keyboard enter"); }
void key_leave(void*, wl_keyboard*, std::uint32_t, wl_surface*) { say("keyboard leave"); }
void key_key(void*, wl_keyboard*, std::uint32_t, std::uint32_t, std::uint32_t key, std::uint32_t state) {
    std::printf("key %u %u\n", key, state);
    std::fflush(stdout);
}
void key_modifiers(void*, wl_keyboard*, std::uint32_t, std::uint32_t, std::uint32_t, std::uint32_t, std::uint32_t) {}
void key_repeat(void*, wl_keyboard*, std::int32_t, std::int32_t) {}
const wl_keyboard_listener keyboard_listener = {key_keymap, key_enter, key_leave, key_key, key_modifiers, key_repeat};

void seat_capabilities(void* data, wl_seat* seat, std::uint32_t caps) {
    auto& c = *static_cast<Client*>(data);
    if ((caps & WL_SEAT_CAPABILITY_KEYBOARD) && !c.keyboard) {
        c.keyboard = wl_seat_get_keyboard(seat);
        wl_keyboard_add_listener(c.keyboard, &keyboard_listener, &c);
    }
}
void seat_name(void*, wl_seat*, const char*) {}
const wl_seat_listener seat_listener = {seat_capabilities, seat_name};

void global(void* data, wl_registry* registry, std::uint32_t name, const char* interface, std::uint32_t) {
    auto& c = *static_cast<Client*>(data);
    const std::string i = interface;
    if (i == wl_compositor_interface.name) {
        c.compositor = static_cast<wl_compositor*>(wl_registry_bind(registry, name, &wl_compositor_interface, 4));
    } else if (i == wl_shm_interface.name) {
        c.shm = static_cast<wl_shm*>(wl_registry_bind(registry, name, &wl_shm_interface, 1));
    } else if (i == wl_seat_interface.name && !c.seat) {
        c.seat = static_cast<wl_seat*>(wl_registry_bind(registry, name, &wl_seat_interface, 5));
        wl_seat_add_listener(c.seat, &seat_listener, &c);
    } else if (i == ext_session_lock_manager_v1_interface.name) {
        c.manager = static_cast<ext_session_lock_manager_v1*>(
            wl_registry_bind(registry, name, &ext_session_lock_manager_v1_interface, 1));
    } else if (i == wl_output_interface.name) {
        Output& o = c.outputs.emplace_back();
        o.name = name;
        o.output = static_cast<wl_output*>(wl_registry_bind(registry, name, &wl_output_interface, 3));
        add_lock_surface(c, o); // an output plugged in while locked
    }
}
void global_remove(void* data, wl_registry*, std::uint32_t name) {
    auto& c = *static_cast<Client*>(data);
    for (auto& o : c.outputs)
        if (o.name == name && o.lock_surface) {
            ext_session_lock_surface_v1_destroy(o.lock_surface);
            wl_surface_destroy(o.surface);
            o.lock_surface = nullptr;
        }
}
const wl_registry_listener registry_listener = {global, global_remove};

} // namespace

int main(int argc, char** argv) {
    Client c;
    bool read_stdin = true;
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--no-stdin") == 0)
            read_stdin = false;
        else if (std::strcmp(argv[i], "--colour") == 0 && i + 1 < argc)
            c.colour = static_cast<std::uint32_t>(std::strtoul(argv[++i], nullptr, 16));
    }
    c.display = wl_display_connect(nullptr);
    if (!c.display) {
        std::fprintf(stderr, "lock_client: cannot connect to the Wayland display\n");
        return 2;
    }
    wl_registry* registry = wl_display_get_registry(c.display);
    wl_registry_add_listener(registry, &registry_listener, &c);
    wl_display_roundtrip(c.display);
    if (!c.manager || !c.compositor || !c.shm) {
        std::fprintf(stderr, "lock_client: no ext_session_lock_manager_v1, wl_compositor or wl_shm\n");
        return 2;
    }
    c.lock = ext_session_lock_manager_v1_lock(c.manager);
    ext_session_lock_v1_add_listener(c.lock, &lock_listener, &c);
    for (auto& o : c.outputs)
        add_lock_surface(c, o);

    std::string input;
    for (;;) {
        while (wl_display_prepare_read(c.display) != 0)
            wl_display_dispatch_pending(c.display);
        wl_display_flush(c.display);
        pollfd fds[2] = {{wl_display_get_fd(c.display), POLLIN, 0}, {read_stdin ? 0 : -1, POLLIN, 0}};
        if (poll(fds, 2, -1) < 0) {
            wl_display_cancel_read(c.display);
            continue;
        }
        if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            if (wl_display_read_events(c.display) < 0) {
                std::fprintf(stderr, "lock_client: the compositor went away\n");
                return 1;
            }
        } else {
            wl_display_cancel_read(c.display);
        }
        if (wl_display_dispatch_pending(c.display) < 0)
            return 1;
        if (c.locked_event) {
            wl_display_flush(c.display);
            c.locked_event = false;
            say("locked");
        }
        if (!(fds[1].revents & (POLLIN | POLLHUP)))
            continue;
        char chunk[256];
        const ssize_t n = read(0, chunk, sizeof chunk);
        if (n <= 0) {
            read_stdin = false; // the test let go of us: stay locked until killed
            continue;
        }
        input.append(chunk, static_cast<std::size_t>(n));
        for (std::size_t nl; (nl = input.find('\n')) != std::string::npos; input.erase(0, nl + 1)) {
            const std::string line = input.substr(0, nl);
            if (line == "unlock") {
                ext_session_lock_v1_unlock_and_destroy(c.lock);
                wl_display_roundtrip(c.display);
                say("unlocked");
                return 0;
            }
            if (line == "quit") {
                say("quitting without unlocking");
                wl_display_disconnect(c.display);
                return 0;
            }
        }
    }
}
