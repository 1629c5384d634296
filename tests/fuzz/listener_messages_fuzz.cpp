// The real Listener decoders: a ConsoleListener is created as guestview creates it, and this
// process plays QEMU on the other end of its socket (D-Bus auth server, caller of the Listener
// methods), as tests/display/fake_qemu_display.cpp does. The input is a list of method calls
// to /org/qemu/Display1/Listener: every Listener, Listener.Unix.Map and
// Listener.Unix.ScanoutDMABUF2 method, the Properties,
// Introspectable and Peer interfaces, unknown members and wrong paths, with fuzzed argument
// values and fuzzed (wrong) signatures, fds included. Each call is sent and the loop
// dispatched until its reply arrives; a last Ping makes sure the no-reply calls were handled.
// The checks: every call expecting a reply gets one, the connection stays up, and what the
// listener publishes (frames, cursors) is self-consistent and readable to its last byte.
//
// Input: a list of calls, each a target byte, a signature-mode byte, then the argument values
// (see make_seeds.py).
#include <fcntl.h>
#include <sys/mman.h>
#include <systemd/sd-id128.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "config/log.hpp"
#include "guestview/display/bus_event_source.hpp"
#include "guestview/display/console_listener.hpp"
#include "guestview/display/pixel_format.hpp"
#include "tests/fuzz/fuzz_input.hpp"
#include "tests/fuzz/listener_targets.hpp"

namespace phyllome::guestview {
namespace {

using fuzz::Input;
using fuzz::pattern;

using namespace listener_fuzz;

bool verbose = false;

constexpr std::uint64_t max_array = 1u << 20;        // one ay
constexpr std::uint64_t max_bytes_per_input = 8u << 20; // all ay and memfds of one input

struct Reply {
    bool answered = false;
    std::string error;
};

class Harness {
public:
    Harness() {
        static wl_event_loop* shared_loop = wl_event_loop_create();
        loop_ = shared_loop;
        detail::UniqueFd qemu_end;
        std::string error;
        listener_ = detail::ConsoleListener::create(loop_, "fuzz", callbacks(), qemu_end, error);
        if (!listener_)
            fuzz::fail(("ConsoleListener::create: " + error).c_str());
        // QEMU's role: D-Bus auth server on the listener socket.
        sd_bus* raw = nullptr;
        sd_id128_t id;
        if (sd_bus_new(&raw) < 0)
            fuzz::fail("sd_bus_new");
        peer_.reset(raw);
        if (sd_id128_randomize(&id) < 0 || sd_bus_set_fd(raw, qemu_end.get(), qemu_end.get()) < 0)
            fuzz::fail("setting up the peer");
        qemu_end.release();
        if (sd_bus_set_server(raw, 1, id) < 0 || sd_bus_start(raw) < 0)
            fuzz::fail("starting the peer");
        source_ = std::make_unique<detail::BusEventSource>(loop_, raw, [this](std::string) { peer_closed_ = true; });
        // QEMU's order: the listener's properties first, which also completes the handshake
        // (fds can only be sent once the peers agreed on fd passing).
        Arg interface;
        interface.token = S;
        interface.text = base_interface;
        auto probe = send(listener_path, "org.freedesktop.DBus.Properties", "GetAll", {interface}, true, Need::None);
        FUZZ_CHECK(probe);
        wait([&] { return probe->answered; });
        FUZZ_CHECK(probe->error.empty());
        FUZZ_CHECK(sd_bus_can_send(raw, SD_BUS_TYPE_UNIX_FD) > 0);
    }

    ~Harness() {
        sampling_.reset();
        listener_.reset();
        source_.reset();
        calls_.clear();
        peer_.reset();
    }

    void run(Input& in) {
        while (!in.empty()) {
            // A token the compositor kept from an UpdateDMABUF: sometimes let go of it first.
            if (sampling_ && in.flag())
                sampling_.reset();
            call(in);
        }
        sampling_.reset();
        // Calls are handled in order: once Ping is answered, so is everything before it.
        auto ping = send(listener_path, "org.freedesktop.DBus.Peer", "Ping", {}, true, Need::None);
        FUZZ_CHECK(ping);
        wait([&] { return ping->answered; });
        FUZZ_CHECK(ping->error.empty());
        for (const auto& [slot, reply] : calls_)
            FUZZ_CHECK(reply->answered);
        FUZZ_CHECK(!peer_closed_);
        FUZZ_CHECK(!listener_closed_);
        // Every published frame was counted, and nothing else was.
        FUZZ_CHECK(listener_->frames().stats().frames_received == frames_);
    }

private:
    detail::ListenerCallbacks callbacks() {
        detail::ListenerCallbacks c;
        c.frame = [this](const FrameEvent& event) { on_frame(event); };
        c.display_off = [] {};
        c.cursor = [](const CursorShape& shape) {
            FUZZ_CHECK(shape.width >= 1 && shape.height >= 1 && shape.width <= 1024 && shape.height <= 1024);
            FUZZ_CHECK(shape.hot_x >= 0 && shape.hot_x < shape.width && shape.hot_y >= 0 && shape.hot_y < shape.height);
            FUZZ_CHECK(shape.argb);
            volatile std::uint8_t last = shape.argb[std::size_t(shape.width) * std::size_t(shape.height) * 4 - 1];
            (void)last;
        };
        c.pointer = [](const PointerPosition&) {};
        c.closed = [this](std::string) { listener_closed_ = true; };
        return c;
    }

    void on_frame(const FrameEvent& event) {
        ++frames_;
        FUZZ_CHECK(event.frame);
        const Frame& frame = *event.frame;
        const Rect& d = event.damage;
        FUZZ_CHECK(d.x >= 0 && d.y >= 0 && d.width > 0 && d.height > 0);
        FUZZ_CHECK(std::int64_t{d.x} + d.width <= std::int64_t{frame.width()});
        FUZZ_CHECK(std::int64_t{d.y} + d.height <= std::int64_t{frame.height()});
        if (frame.storage() == FrameStorage::Dmabuf) {
            const DmabufAttributes* d = frame.dmabuf();
            FUZZ_CHECK(d && d->num_planes >= 1 && d->num_planes <= max_dmabuf_planes);
            for (std::uint32_t i = 0; i < d->num_planes; ++i)
                FUZZ_CHECK(::fcntl(d->planes[i].fd, F_GETFD) >= 0); // owned duplicates, still open
            // The visible part lies inside the backing buffer, and the frame is that part.
            FUZZ_CHECK(d->visible.x >= 0 && d->visible.y >= 0 && d->visible.width > 0 && d->visible.height > 0);
            FUZZ_CHECK(std::uint64_t(d->visible.x) + std::uint64_t(d->visible.width) <= d->backing_width);
            FUZZ_CHECK(std::uint64_t(d->visible.y) + std::uint64_t(d->visible.height) <= d->backing_height);
            FUZZ_CHECK(std::uint32_t(d->visible.width) == frame.width() && std::uint32_t(d->visible.height) == frame.height());
            if (event.sampling_done && keep_sampling_) {
                sampling_ = event.sampling_done; // replied to later (or when a newer one comes)
                ++kept_;
            }
            return;
        }
        FUZZ_CHECK(frame.pixels());
        volatile std::uint8_t first = frame.pixels()[0], last = frame.pixels()[frame.size_bytes() - 1];
        (void)first;
        (void)last;
    }

    void call(Input& in) {
        const Target& target = targets()[in.u8() % targets().size()];
        const std::uint8_t mode = in.u8();
        std::vector<Token> signature = target.signature;
        auto random_token = [&in] { return static_cast<Token>(in.u8() % TokenCount); };
        switch (mode % 8) {
        case 0: // replace one argument's type
            if (!signature.empty())
                signature[in.u8() % signature.size()] = random_token();
            break;
        case 1: // too few arguments
            if (!signature.empty())
                signature.resize(in.u8() % signature.size());
            break;
        case 2: // one too many
            signature.push_back(random_token());
            break;
        case 3: { // anything at all
            signature.resize(in.u8() % 8);
            for (Token& token : signature)
                token = random_token();
            break;
        }
        default: break; // the right signature, as QEMU sends it
        }
        const bool expect_reply = (mode & 0x10) == 0;
        keep_sampling_ = (mode & 0x20) != 0;

        std::vector<Arg> args(signature.size());
        for (std::size_t i = 0; i < args.size(); ++i)
            args[i] = read_arg(in, signature[i]);
        auto reply = send(target.path, target.interface, target.member, args, expect_reply, target.need);
        if (!reply)
            return;
        // An UpdateDMABUF whose token is kept is answered later: wait until it was handled
        // (its frame arrived, or it was refused). Everything else: until the reply.
        const bool deferred = std::string_view(target.member) == "UpdateDMABUF" && keep_sampling_ && expect_reply;
        const std::uint64_t kept_before = kept_;
        wait([&] { return reply->answered || (deferred && kept_ > kept_before); });
    }

    Arg read_arg(Input& in, Token token) {
        Arg arg;
        arg.token = token;
        switch (token) {
        case S: case O: case G: case AS: case V: case DICT_SV: arg.text = ascii(in); break;
        case AU:
            arg.items.resize(in.u8() % max_array_items);
            for (auto& item : arg.items)
                item = integer(in);
            break;
        case AH:
            arg.items.resize(in.u8() % max_array_items);
            [[fallthrough]];
        case AY: case H:
            arg.size_mode = in.u8();
            arg.raw_size = in.u16();
            arg.fd_kind = in.u8();
            arg.seed = in.u8();
            break;
        default: arg.value = integer(in); break;
        }
        return arg;
    }

    // The size an ay or a memfd should have for the call to be well-formed, from the
    // integer arguments where the canonical signature has them.
    static std::uint64_t needed(Need need, const std::vector<Arg>& args) {
        auto u = [&](std::size_t i) -> std::uint64_t {
            return i < args.size() ? static_cast<std::uint32_t>(args[i].value) : 0;
        };
        auto first_item = [&](std::size_t i) -> std::uint64_t {
            return i < args.size() && !args[i].items.empty() ? static_cast<std::uint32_t>(args[i].items[0]) : 0;
        };
        switch (need) {
        case Need::Scanout: return u(2) * u(1);
        case Need::Update: return u(4) * u(3);
        case Need::Cursor: return u(0) * u(1) * 4;
        case Need::ScanoutMap: return u(1) + u(4) * u(3);
        // Plane 0: offset + stride x backing height (every plane's fd gets that size).
        case Need::ScanoutDmabuf2: return first_item(5) + first_item(6) * u(10);
        case Need::None: break;
        }
        return 0;
    }

    std::uint64_t size_for(const Arg& arg, std::uint64_t need) {
        std::uint64_t size = 0;
        switch (arg.size_mode % 4) {
        case 0: size = need; break;
        case 1: size = need + arg.raw_size % 8; break;
        case 2: size = need - std::min<std::uint64_t>(need, arg.raw_size % 8 + 1); break;
        default: size = arg.raw_size; break;
        }
        if (size > max_array)
            size = arg.raw_size;
        if (size > max_bytes_per_input - std::min(bytes_, max_bytes_per_input))
            size = 0;
        bytes_ += size;
        return size;
    }

    int make_fd(const Arg& arg, std::uint64_t need) {
        switch (arg.fd_kind % 8) {
        case 0: return -1;
        case 1: {
            int pipe_fds[2];
            if (::pipe2(pipe_fds, O_CLOEXEC) != 0)
                fuzz::fail("pipe2");
            ::close(pipe_fds[1]);
            return pipe_fds[0];
        }
        case 2: return ::open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        case 3: return ::open("/dev/null", O_RDWR | O_CLOEXEC);
        default: break;
        }
        int fd = ::memfd_create("fuzz-surface", MFD_CLOEXEC);
        if (fd < 0)
            fuzz::fail("memfd_create");
        const std::uint64_t size = size_for(arg, need);
        if (::ftruncate(fd, static_cast<off_t>(size)) != 0)
            fuzz::fail("ftruncate");
        auto head = pattern(std::min<std::uint64_t>(size, 4096), arg.seed);
        if (!head.empty() && ::pwrite(fd, head.data(), head.size(), 0) != static_cast<ssize_t>(head.size()))
            fuzz::fail("pwrite");
        return fd;
    }

    int append(sd_bus_message* m, const Arg& arg, std::uint64_t need) {
        switch (arg.token) {
        case Y: { std::uint8_t v = static_cast<std::uint8_t>(arg.value); return sd_bus_message_append_basic(m, 'y', &v); }
        case B: { int v = static_cast<int>(arg.value & 1); return sd_bus_message_append_basic(m, 'b', &v); }
        case N: { std::int16_t v = static_cast<std::int16_t>(arg.value); return sd_bus_message_append_basic(m, 'n', &v); }
        case Q: { std::uint16_t v = static_cast<std::uint16_t>(arg.value); return sd_bus_message_append_basic(m, 'q', &v); }
        case I: { std::int32_t v = static_cast<std::int32_t>(arg.value); return sd_bus_message_append_basic(m, 'i', &v); }
        case U: { std::uint32_t v = static_cast<std::uint32_t>(arg.value); return sd_bus_message_append_basic(m, 'u', &v); }
        case X: { std::int64_t v = arg.value; return sd_bus_message_append_basic(m, 'x', &v); }
        case T: { std::uint64_t v = static_cast<std::uint64_t>(arg.value); return sd_bus_message_append_basic(m, 't', &v); }
        case D: {
            double v = 0;
            std::memcpy(&v, &arg.value, sizeof v);
            return sd_bus_message_append_basic(m, 'd', &v);
        }
        case S: return sd_bus_message_append_basic(m, 's', arg.text.c_str());
        case O: return sd_bus_message_append_basic(m, 'o', arg.text.size() % 2 ? "/" : listener_path);
        case G: return sd_bus_message_append_basic(m, 'g', arg.text.size() % 2 ? "" : "uuuuay");
        case H: {
            const int fd = make_fd(arg, need);
            const int r = sd_bus_message_append_basic(m, 'h', &fd); // sd-bus keeps a dup
            if (fd >= 0)
                ::close(fd);
            return r;
        }
        case AY: {
            auto bytes = pattern(size_for(arg, need), arg.seed);
            return sd_bus_message_append_array(m, 'y', bytes.data(), bytes.size());
        }
        case AS: return sd_bus_message_append(m, "as", 2, arg.text.c_str(), "Interfaces");
        case V: return sd_bus_message_append(m, "v", "as", 1, arg.text.c_str());
        case STRUCT_II: return sd_bus_message_append(m, "(ii)", std::int32_t(arg.value), std::int32_t(arg.value >> 32));
        case DICT_SV: return sd_bus_message_append(m, "a{sv}", 1, arg.text.c_str(), "u", 7u);
        case AU: {
            std::vector<std::uint32_t> values(arg.items.begin(), arg.items.end());
            return sd_bus_message_append_array(m, 'u', values.data(), values.size() * sizeof(std::uint32_t));
        }
        case AH: {
            int r = sd_bus_message_open_container(m, 'a', "h");
            for (std::size_t i = 0; r >= 0 && i < arg.items.size(); ++i) {
                const int fd = make_fd(arg, need);
                r = sd_bus_message_append_basic(m, 'h', &fd); // sd-bus keeps a dup
                if (fd >= 0)
                    ::close(fd);
            }
            return r < 0 ? r : sd_bus_message_close_container(m);
        }
        case TokenCount: break;
        }
        return -EINVAL;
    }

    // nullptr when sd-bus would not build the message (a string it does not accept...).
    std::shared_ptr<Reply> send(const char* path, const char* interface, const char* member,
                                const std::vector<Arg>& args, bool expect_reply, Need need) {
        sd_bus_message* raw = nullptr;
        if (sd_bus_message_new_method_call(peer_.get(), &raw, nullptr, path, interface, member) < 0)
            fuzz::fail("sd_bus_message_new_method_call");
        detail::MessagePtr m(raw);
        const std::uint64_t size = needed(need, args);
        for (const Arg& arg : args)
            if (append(raw, arg, size) < 0)
                return nullptr;
        if (verbose) {
            std::fprintf(stderr, "call %s %s.%s (%s)%s\n", path, interface ? interface : "-", member,
                         sd_bus_message_get_signature(raw, 1), expect_reply ? "" : " no reply");
            for (const Arg& arg : args)
                std::fprintf(stderr, "  %d: %lld size_mode %u raw_size %u fd_kind %u '%s'\n", int(arg.token),
                             static_cast<long long>(arg.value), arg.size_mode, arg.raw_size, arg.fd_kind,
                             arg.text.c_str());
        }
        auto reply = std::make_shared<Reply>();
        if (expect_reply) {
            sd_bus_slot* slot = nullptr;
            const int r = sd_bus_call_async(
                peer_.get(), &slot, raw,
                [](sd_bus_message* message, void* data, sd_bus_error*) {
                    auto* out = static_cast<Reply*>(data);
                    out->answered = true;
                    if (const sd_bus_error* e = sd_bus_message_get_error(message))
                        out->error = e->name;
                    if (verbose)
                        std::fprintf(stderr, "  -> %s\n", out->error.empty() ? "ok" : out->error.c_str());
                    return 0;
                },
                reply.get(), 0);
            if (r < 0)
                fuzz::fail("sd_bus_call_async");
            calls_.emplace_back(detail::SlotPtr(slot), reply);
        } else {
            sd_bus_message_set_expect_reply(raw, 0);
            if (sd_bus_send(peer_.get(), raw, nullptr) < 0)
                fuzz::fail("sd_bus_send");
            reply->answered = true; // nothing to wait for
        }
        source_->rearm();
        return reply;
    }

    // Dispatches both ends until `done`. No reply within 20 s means a lost message: reported
    // as a failure (with the input) rather than left to libFuzzer's timeout.
    template <typename Done>
    void wait(Done done) {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
        while (!done()) {
            FUZZ_CHECK(!peer_closed_);
            FUZZ_CHECK(!listener_closed_); // it would never answer
            if (wl_event_loop_dispatch(loop_, 100) < 0)
                fuzz::fail("wl_event_loop_dispatch");
            wl_event_loop_dispatch_idle(loop_);
            if (std::chrono::steady_clock::now() > deadline)
                fuzz::fail("a call got no reply within 20 s");
        }
    }

    wl_event_loop* loop_ = nullptr;
    std::unique_ptr<detail::ConsoleListener> listener_;
    detail::BusPtr peer_;
    std::unique_ptr<detail::BusEventSource> source_;
    std::vector<std::pair<detail::SlotPtr, std::shared_ptr<Reply>>> calls_;
    std::shared_ptr<SamplingDone> sampling_;
    bool keep_sampling_ = false;
    bool peer_closed_ = false;
    bool listener_closed_ = false;
    std::uint64_t frames_ = 0;
    std::uint64_t kept_ = 0; // sampling tokens kept
    std::uint64_t bytes_ = 0;
};

} // namespace
} // namespace phyllome::guestview

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    // PHYLLOME_FUZZ_VERBOSE=1: the listener's log and every call, to read a crash's input.
    phyllome::guestview::verbose = std::getenv("PHYLLOME_FUZZ_VERBOSE") != nullptr;
    phyllome::log::set_level(phyllome::guestview::verbose ? phyllome::config::LogLevel::Debug
                                                          : phyllome::config::LogLevel::Error);
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    phyllome::fuzz::Input in(data, size);
    phyllome::guestview::Harness harness;
    harness.run(in);
    return 0;
}
