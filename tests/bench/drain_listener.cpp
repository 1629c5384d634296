// The floor of the real-stream benchmark (issue 6): a bare org.qemu.Display1.Listener that
// only drains the stream. It opens the guest's D-Bus p2p display through libvirt as guestview
// does, registers a listener on console 0, and for every message does what any client must
// do: read it off the socket, let sd-bus decode it, read its arguments (the pixel array by
// pointer, no copy) and reply when a reply is expected. The pixels are dropped. Like the shell,
// it takes QEMU 9.2+'s map path (Listener.Unix.Map): a ScanoutMap's memfd is mapped, read-only,
// and UpdateMap carries only the damaged rectangle.
//
//   drain_listener --uri URI --domain NAME [--graphics-index N] [--warmup S] [--seconds S]
//
// Waits for the first message, lets --warmup seconds pass, then prints `window-start` and
// counts for --seconds; at the end prints one JSON line with the counts and its own CPU time
// over the window, and exits.
#include <poll.h>
#include <sys/mman.h>
#include <unistd.h>
#include <time.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <systemd/sd-bus.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <thread>

#include <fmt/format.h>

#include "guestview/display/bus_handles.hpp"
#include "tests/bench/libvirt_event_thread.hpp"

namespace {

using phyllome::guestview::detail::BusPtr;
using phyllome::guestview::detail::SlotPtr;
using phyllome::guestview::detail::UniqueFd;
using Clock = std::chrono::steady_clock;

struct ConnectClose {
    void operator()(virConnectPtr c) const { virConnectClose(c); }
};
struct DomainFree {
    void operator()(virDomainPtr d) const { virDomainFree(d); }
};

struct Counts {
    std::uint64_t scanouts = 0, updates = 0, other = 0, pixel_bytes = 0;
    std::uint64_t messages() const { return scanouts + updates + other; }
};

// How many 60 Hz refresh slots received at least one message: the most frames with new
// content any 60 Hz consumer could present from this stream.
struct SlotCounter {
    Clock::time_point origin = Clock::now();
    std::int64_t last = -1;
    std::uint64_t slots = 0;
    void note() {
        const auto slot = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - origin).count() * 60 /
                          1000000;
        if (slot != last) {
            last = slot;
            ++slots;
        }
    }
};

// The surface QEMU shares on the map path, unmapped when the next one comes.
struct Mapping {
    void* data = MAP_FAILED;
    std::size_t size = 0;
    Mapping() = default;
    Mapping(const Mapping&) = delete;
    Mapping& operator=(const Mapping&) = delete;
    ~Mapping() { reset(); }
    void reset(void* d = MAP_FAILED, std::size_t n = 0) {
        if (data != MAP_FAILED)
            munmap(data, size);
        data = d;
        size = n;
    }
};

struct Drain {
    Counts counts;
    Mapping surface;
    SlotCounter slots;
    bool registered = false;
    std::string error;
};

double process_cpu_ms() {
    timespec t{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) * 1e3 + static_cast<double>(t.tv_nsec) / 1e6;
}

// Reads the pixel array the way a real client must reach it (sd-bus validates the message on
// the way), then drops it.
int count_pixels(sd_bus_message* m, Drain& d, const char* header) {
    int r = 0;
    if (std::strcmp(header, "uuuu") == 0) {
        std::uint32_t w, h, stride, format;
        r = sd_bus_message_read(m, "uuuu", &w, &h, &stride, &format);
    } else {
        std::int32_t x, y, w, h;
        std::uint32_t stride, format;
        r = sd_bus_message_read(m, "iiiiuu", &x, &y, &w, &h, &stride, &format);
    }
    if (r < 0)
        return r;
    const void* data = nullptr;
    std::size_t size = 0;
    r = sd_bus_message_read_array(m, 'y', &data, &size);
    if (r < 0)
        return r;
    d.counts.pixel_bytes += size;
    return sd_bus_reply_method_return(m, ""); // no-op for QEMU's no-reply calls
}

int on_scanout(sd_bus_message* m, void* data, sd_bus_error*) {
    auto& d = *static_cast<Drain*>(data);
    ++d.counts.scanouts;
    d.slots.note();
    return count_pixels(m, d, "uuuu");
}

int on_update(sd_bus_message* m, void* data, sd_bus_error*) {
    auto& d = *static_cast<Drain*>(data);
    ++d.counts.updates;
    d.slots.note();
    return count_pixels(m, d, "iiiiuu");
}

int on_scanout_map(sd_bus_message* m, void* data, sd_bus_error* error) {
    auto& d = *static_cast<Drain*>(data);
    ++d.counts.scanouts;
    d.slots.note();
    int fd = -1;
    std::uint32_t offset, w, h, stride, format;
    int r = sd_bus_message_read(m, "huuuuu", &fd, &offset, &w, &h, &stride, &format);
    if (r < 0)
        return r;
    const std::size_t size = std::size_t{offset} + std::size_t{stride} * h;
    void* p = mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED)
        return sd_bus_error_set_errno(error, errno);
    d.surface.reset(p, size);
    return sd_bus_reply_method_return(m, ""); // QEMU waits for this one
}

int on_update_map(sd_bus_message* m, void* data, sd_bus_error*) {
    auto& d = *static_cast<Drain*>(data);
    ++d.counts.updates;
    d.slots.note();
    std::int32_t x, y, w, h;
    int r = sd_bus_message_read(m, "iiii", &x, &y, &w, &h);
    return r < 0 ? r : sd_bus_reply_method_return(m, "");
}

int on_other(sd_bus_message* m, void* data, sd_bus_error*) {
    ++static_cast<Drain*>(data)->counts.other;
    return sd_bus_reply_method_return(m, "");
}

int get_interfaces(sd_bus*, const char*, const char*, const char*, sd_bus_message* reply, void*, sd_bus_error*) {
    return sd_bus_message_append(reply, "as", 1, "org.qemu.Display1.Listener.Unix.Map");
}

int on_registered(sd_bus_message* m, void* data, sd_bus_error*) {
    auto& d = *static_cast<Drain*>(data);
    if (const sd_bus_error* e = sd_bus_message_get_error(m))
        d.error = fmt::format("RegisterListener: {}", e->message ? e->message : e->name);
    else
        d.registered = true;
    return 1;
}

const sd_bus_vtable listener_vtable[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_PROPERTY("Interfaces", "as", get_interfaces, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_METHOD("Scanout", "uuuuay", "", on_scanout, 0),
    SD_BUS_METHOD("Update", "iiiiuuay", "", on_update, 0),
    SD_BUS_METHOD("ScanoutDMABUF", "huuuutb", "", on_other, 0),
    SD_BUS_METHOD("UpdateDMABUF", "iiii", "", on_other, 0),
    SD_BUS_METHOD("Disable", "", "", on_other, 0),
    SD_BUS_METHOD("MouseSet", "iii", "", on_other, 0),
    SD_BUS_METHOD("CursorDefine", "iiiiay", "", on_other, 0),
    SD_BUS_VTABLE_END,
};

const sd_bus_vtable map_vtable[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_METHOD("ScanoutMap", "huuuuu", "", on_scanout_map, 0),
    SD_BUS_METHOD("UpdateMap", "iiii", "", on_update_map, 0),
    SD_BUS_VTABLE_END,
};

std::string errno_text(int r) { return std::strerror(-r); }

// The p2p display socket libvirt hands out; the libvirt connection is closed again at once
// (the embedded driver locks its root while open, and the shell needs it next).
UniqueFd open_display(const std::string& uri, const std::string& domain, unsigned index, std::string& error) {
    phyllome::bench::LibvirtEventThread events; // outlives the connection below
    std::unique_ptr<virConnect, ConnectClose> conn(virConnectOpen(uri.c_str()));
    if (!conn) {
        error = "cannot open " + uri;
        return {};
    }
    std::unique_ptr<virDomain, DomainFree> dom(virDomainLookupByName(conn.get(), domain.c_str()));
    if (!dom) {
        error = "no domain " + domain;
        return {};
    }
    UniqueFd fd(virDomainOpenGraphicsFD(dom.get(), index, 0));
    if (!fd) {
        const virErrorPtr e = virGetLastError();
        error = fmt::format("virDomainOpenGraphicsFD: {}", e && e->message ? e->message : "failed");
    }
    return fd;
}

BusPtr client_bus(UniqueFd fd, std::string& error) {
    sd_bus* raw = nullptr;
    if (int r = sd_bus_new(&raw); r < 0) {
        error = "sd_bus_new: " + errno_text(r);
        return nullptr;
    }
    BusPtr bus(raw);
    const int f = fd.release();
    if (int r = sd_bus_set_fd(raw, f, f); r < 0) {
        ::close(f);
        error = "sd_bus_set_fd: " + errno_text(r);
        return nullptr;
    }
    return bus;
}

// Runs every pending message of both connections, then waits on their sockets until `until`.
bool pump(sd_bus* a, sd_bus* b, Clock::time_point until, std::string& error) {
    for (sd_bus* bus : {a, b}) {
        for (;;) {
            const int r = sd_bus_process(bus, nullptr);
            if (r < 0) {
                error = "sd_bus_process: " + errno_text(r);
                return false;
            }
            if (r == 0)
                break;
        }
    }
    pollfd fds[2] = {{sd_bus_get_fd(a), static_cast<short>(sd_bus_get_events(a)), 0},
                     {sd_bus_get_fd(b), static_cast<short>(sd_bus_get_events(b)), 0}};
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now()).count();
    ::poll(fds, 2, static_cast<int>(std::max<long long>(0, std::min<long long>(left, 100))));
    return true;
}

} // namespace

int main(int argc, char** argv) {
    std::string uri, domain;
    unsigned index = 0;
    double warmup = 2, seconds = 20;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        const bool has_value = i + 1 < argc;
        if (a == "--uri" && has_value)
            uri = argv[++i];
        else if (a == "--domain" && has_value)
            domain = argv[++i];
        else if (a == "--graphics-index" && has_value)
            index = static_cast<unsigned>(std::stoul(argv[++i]));
        else if (a == "--warmup" && has_value)
            warmup = std::stod(argv[++i]);
        else if (a == "--seconds" && has_value)
            seconds = std::stod(argv[++i]);
        else {
            std::fputs("usage: drain_listener --uri URI --domain NAME [--graphics-index N] [--warmup S] [--seconds S]\n",
                       stderr);
            return 2;
        }
    }
    if (uri.empty() || domain.empty()) {
        std::fputs("drain_listener: --uri and --domain are required\n", stderr);
        return 2;
    }
    std::string error;
    UniqueFd display = open_display(uri, domain, index, error);
    if (!display) {
        fmt::print(stderr, "drain_listener: {}\n", error);
        return 1;
    }
    BusPtr main_bus = client_bus(std::move(display), error);
    int sv[2];
    if (!main_bus || ::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
        fmt::print(stderr, "drain_listener: {}\n", error.empty() ? std::string("socketpair failed") : error);
        return 1;
    }
    UniqueFd qemu_end(sv[1]);
    BusPtr listener = client_bus(UniqueFd(sv[0]), error);
    Drain drain;
    sd_bus_slot* raw_slot = nullptr;
    int r = listener ? sd_bus_add_object_vtable(listener.get(), &raw_slot, "/org/qemu/Display1/Listener",
                                                "org.qemu.Display1.Listener", listener_vtable, &drain)
                     : -EINVAL;
    SlotPtr slot(raw_slot);
    sd_bus_slot* raw_map_slot = nullptr;
    if (r >= 0)
        r = sd_bus_add_object_vtable(listener.get(), &raw_map_slot, "/org/qemu/Display1/Listener",
                                     "org.qemu.Display1.Listener.Unix.Map", map_vtable, &drain);
    SlotPtr map_slot(raw_map_slot);
    if (r >= 0)
        r = sd_bus_start(main_bus.get());
    if (r >= 0)
        r = sd_bus_start(listener.get());
    if (r >= 0)
        r = sd_bus_call_method_async(main_bus.get(), nullptr, nullptr, "/org/qemu/Display1/Console_0",
                                     "org.qemu.Display1.Console", "RegisterListener", on_registered, &drain, "h",
                                     qemu_end.get());
    if (r < 0) {
        fmt::print(stderr, "drain_listener: setting up the listener: {}\n", errno_text(r));
        return 1;
    }
    qemu_end.reset(); // sd-bus duplicated it into the message

    // Registration, then the first message (QEMU pushes the current frame at once).
    const auto give_up = Clock::now() + std::chrono::seconds(30);
    while (drain.counts.messages() == 0 && drain.error.empty() && Clock::now() < give_up)
        if (!pump(main_bus.get(), listener.get(), give_up, drain.error))
            break;
    if (drain.counts.messages() == 0) {
        fmt::print(stderr, "drain_listener: no message from QEMU: {}\n", drain.error.empty() ? "timed out" : drain.error);
        return 1;
    }
    const auto window_start = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(warmup));
    while (Clock::now() < window_start)
        if (!pump(main_bus.get(), listener.get(), window_start, drain.error))
            break;
    const Counts before = drain.counts;
    const std::uint64_t slots_before = drain.slots.slots;
    const double cpu_before = process_cpu_ms();
    const auto t0 = Clock::now();
    std::printf("window-start\n");
    std::fflush(stdout);
    const auto window_end = t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
    while (Clock::now() < window_end && drain.error.empty())
        if (!pump(main_bus.get(), listener.get(), window_end, drain.error))
            break;
    const double s = std::chrono::duration<double>(Clock::now() - t0).count();
    const double cpu = process_cpu_ms() - cpu_before;
    const Counts& c = drain.counts;
    fmt::print("{{\"seconds\": {:.3f}, \"messages\": {}, \"scanouts\": {}, \"updates\": {}, \"other\": {}, "
               "\"pixel_bytes\": {}, \"messages_per_s\": {:.1f}, \"content_slots_per_s\": {:.1f}, \"cpu_ms_per_s\": {:.2f}, "
               "\"error\": \"{}\"}}\n",
               s, c.messages() - before.messages(), c.scanouts - before.scanouts, c.updates - before.updates,
               c.other - before.other, c.pixel_bytes - before.pixel_bytes,
               static_cast<double>(c.messages() - before.messages()) / s,
               static_cast<double>(drain.slots.slots - slots_before) / s, cpu / s, drain.error);
    std::fflush(stdout);
    return drain.error.empty() ? 0 : 1;
}
