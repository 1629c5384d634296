// FrameAssembler driven by a sequence of operations with fuzzed dimensions, strides, formats,
// rectangles, payload sizes and fds. After each operation the invariants a compositor relies
// on are checked: a published frame's pixels lie within the data it came from, damage lies
// within the frame, Update rectangles land where they belong, a refusal changes nothing, and
// a frame the compositor still holds never changes once it stopped being current.
//
// Input: a list of operations, each an opcode byte and its operands (see make_seeds.py).
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <drm_fourcc.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "config/log.hpp"
#include "guestview/display/frame_assembler.hpp"
#include "tests/fuzz/fuzz_input.hpp"

namespace phyllome::guestview {
namespace {

using fuzz::Input;
using fuzz::pattern;

// Keeps every run fast and within libFuzzer's memory limit: bigger payloads are simply not
// built (the assembler refuses the message for lack of data, which is fuzzed too).
bool verbose = false; // PHYLLOME_FUZZ_VERBOSE=1: what each operation did

constexpr std::uint64_t max_payload = 1u << 20;

enum Op : std::uint8_t { Scanout, Update, ScanoutMap, UpdateMap, ScanoutDmabuf, UpdateDmabuf, Disable, HoldFrame, OpCount };

std::uint32_t dimension(Input& in) {
    switch (in.u8() % 8) {
    case 0: return 0;
    case 1: return 1;
    case 2: return max_surface_dimension;
    case 3: return max_surface_dimension + 1;
    case 4: return in.u32();
    case 5: return in.u16();
    default: return in.u8() % 64 + 1;
    }
}

std::uint32_t stride_for(Input& in, std::uint32_t width, std::uint32_t bpp) {
    const std::uint32_t row = width * bpp; // may wrap: that is a case too
    switch (in.u8() % 6) {
    case 0: return row;
    case 1: return row + in.u8();
    case 2: return row - 1;
    case 3: return in.u32();
    case 4: return max_surface_dimension * 16 + (in.u8() & 1);
    default: return row + 4 * (in.u8() % 8);
    }
}

std::uint32_t pixman_format(Input& in) {
    auto known = known_pixel_formats();
    const std::uint8_t pick = in.u8();
    if (pick < 240)
        return known[pick % known.size()].pixman;
    return in.u32();
}

std::uint32_t drm_format(Input& in) {
    auto known = known_pixel_formats();
    const std::uint8_t pick = in.u8();
    if (pick < 240)
        return known[pick % known.size()].drm_fourcc;
    return in.u32();
}

std::int32_t coordinate(Input& in, std::uint32_t extent) {
    switch (in.u8() % 6) {
    case 0: return static_cast<std::int32_t>(in.u8()) - 16;
    case 1: return in.i32();
    case 2: return INT32_MIN;
    case 3: return INT32_MAX;
    case 4: return static_cast<std::int32_t>(extent) - static_cast<std::int32_t>(in.u8() % 8);
    default: return static_cast<std::int32_t>(in.u8() % 64);
    }
}

std::int32_t size_of_rect(Input& in) {
    switch (in.u8() % 6) {
    case 0: return 0;
    case 1: return -static_cast<std::int32_t>(in.u8());
    case 2: return in.i32();
    case 3: return static_cast<std::int32_t>(max_surface_dimension) + (in.u8() & 1);
    default: return in.u8() % 64 + 1;
    }
}

// The payload length for a message that needs `needed` bytes: around it, or anything.
std::uint64_t payload_size(Input& in, std::uint64_t needed) {
    std::uint64_t size = 0;
    switch (in.u8() % 4) {
    case 0: size = needed - std::min<std::uint64_t>(needed, in.u8() % 4 + 1); break;
    case 1: size = needed + in.u8() % 8; break;
    case 2: size = in.u16(); break;
    default: size = needed; break;
    }
    return size > max_payload ? in.u16() : size;
}

// An fd for ScanoutMap / ScanoutDMABUF: usually a memfd of a fuzzed size, sometimes
// something no memfd should be. Closed by the caller.
int make_fd(Input& in, std::uint64_t wanted_size, std::uint8_t seed) {
    switch (in.u8() % 8) {
    case 0: return -1;
    case 1: return 1 << 20; // not open
    case 2: {
        int pipe_fds[2];
        if (::pipe2(pipe_fds, O_CLOEXEC) != 0)
            return -1;
        ::close(pipe_fds[1]);
        return pipe_fds[0];
    }
    case 3: return ::open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    default: break;
    }
    int fd = ::memfd_create("fuzz-surface", MFD_CLOEXEC);
    if (fd < 0)
        fuzz::fail("memfd_create");
    const std::uint64_t size = payload_size(in, wanted_size);
    if (::ftruncate(fd, static_cast<off_t>(size)) != 0)
        fuzz::fail("ftruncate");
    // Pixels worth comparing in the first page; the rest reads as zeros.
    auto head = pattern(std::min<std::uint64_t>(size, 4096), seed);
    if (!head.empty() && ::pwrite(fd, head.data(), head.size(), 0) != static_cast<ssize_t>(head.size()))
        fuzz::fail("pwrite");
    return fd;
}

// A frame the "compositor" keeps, as it may keep the buffer it shows.
struct Held {
    std::shared_ptr<const Frame> frame;
    bool frozen = false; // stopped being current: must not change any more
    std::vector<std::uint8_t> pixels;
};

class Harness {
public:
    void run(Input& in) {
        while (!in.empty()) {
            const std::uint8_t op = in.u8() % OpCount;
            before_ = assembler_.current();
            switch (op) {
            case Scanout: scanout(in); break;
            case Update: update(in); break;
            case ScanoutMap: scanout_map(in); break;
            case UpdateMap: damage_only(in, Op::UpdateMap); break;
            case ScanoutDmabuf: scanout_dmabuf(in); break;
            case UpdateDmabuf: damage_only(in, Op::UpdateDmabuf); break;
            case Disable:
                assembler_.disable();
                FUZZ_CHECK(!assembler_.current());
                break;
            case HoldFrame: hold(in.u8()); break;
            }
            check_stats();
            freeze_held();
        }
        for (Held& held : held_)
            verify(held);
    }

private:
    void scanout(Input& in) {
        const std::uint32_t format = pixman_format(in);
        const auto known = pixel_format_from_pixman(format);
        const std::uint32_t width = dimension(in), height = dimension(in);
        const std::uint32_t stride = stride_for(in, width, known ? known->bytes_per_pixel : 4);
        const std::uint64_t size = payload_size(in, std::uint64_t{stride} * height);
        auto data = std::make_shared<std::vector<std::uint8_t>>(pattern(size, in.u8()));
        std::span<const std::uint8_t> span(*data);
        ++submitted_;
        AssemblyResult result = assembler_.scanout(width, height, stride, format, span, data);
        if (!check_result(result))
            return;
        const Frame& frame = *result.event->frame;
        check_new_surface(result, width, height, stride);
        FUZZ_CHECK(frame.storage() == FrameStorage::ScanoutMessage);
        FUZZ_CHECK(frame.format().pixman == format);
        // Zero copy: the frame's pixels are the message's, all of them inside it.
        FUZZ_CHECK(frame.pixels() >= span.data());
        FUZZ_CHECK(frame.size_bytes() <= span.size());
        FUZZ_CHECK(frame.pixels() + frame.size_bytes() <= span.data() + span.size());
    }

    void update(Input& in) {
        const std::uint32_t extent_w = before_ ? before_->width() : 64, extent_h = before_ ? before_->height() : 64;
        const std::int32_t x = coordinate(in, extent_w), y = coordinate(in, extent_h);
        const std::int32_t width = size_of_rect(in), height = size_of_rect(in);
        std::uint32_t format = before_ && (in.u8() % 8) ? before_->format().pixman : pixman_format(in);
        const auto known = pixel_format_from_pixman(format);
        const std::uint32_t stride = stride_for(in, static_cast<std::uint32_t>(width), known ? known->bytes_per_pixel : 4);
        const std::uint64_t size = payload_size(in, std::uint64_t{stride} * static_cast<std::uint32_t>(height));
        const auto data = pattern(size, in.u8());
        ++submitted_;
        AssemblyResult result = assembler_.update(x, y, width, height, stride, format, data);
        if (!check_result(result))
            return;
        const FrameEvent& event = *result.event;
        const Frame& frame = *event.frame;
        FUZZ_CHECK(frame.storage() == FrameStorage::OwnedBuffer);
        FUZZ_CHECK(before_ && frame.geometry().width == before_->width() && frame.height() == before_->height() &&
                   frame.stride() == before_->stride() && frame.format() == before_->format());
        FUZZ_CHECK(event.new_buffer == (before_->storage() != FrameStorage::OwnedBuffer));
        check_damage(event);
        // The clipped rectangle shows the update's pixels, row by row.
        const Rect& d = event.damage;
        const std::uint32_t bpp = frame.format().bytes_per_pixel;
        const std::size_t row_bytes = std::size_t(d.width) * bpp;
        FUZZ_CHECK(event.bytes_copied >= row_bytes * std::size_t(d.height));
        for (std::int32_t row = 0; row < d.height; ++row) {
            const std::size_t source = std::size_t(std::int64_t{d.y} - y + row) * stride +
                                       std::size_t(std::int64_t{d.x} - x) * bpp;
            FUZZ_CHECK(source + row_bytes <= data.size());
            FUZZ_CHECK(std::memcmp(frame.pixels() + std::size_t(d.y + row) * frame.stride() + std::size_t(d.x) * bpp,
                                   data.data() + source, row_bytes) == 0);
        }
    }

    void scanout_map(Input& in) {
        const std::uint32_t format = pixman_format(in);
        const auto known = pixel_format_from_pixman(format);
        const std::uint32_t width = dimension(in), height = dimension(in);
        const std::uint32_t stride = stride_for(in, width, known ? known->bytes_per_pixel : 4);
        const std::uint32_t offset = in.u8() % 4 ? in.u16() % 4096 : in.u32();
        const int fd = make_fd(in, std::uint64_t{offset} + std::uint64_t{stride} * height, in.u8());
        ++submitted_;
        AssemblyResult result = assembler_.scanout_map(fd, offset, width, height, stride, format);
        if (fd >= 0 && fd != 1 << 20)
            ::close(fd); // borrowed: the mapping must outlive it
        if (!check_result(result))
            return;
        const Frame& frame = *result.event->frame;
        check_new_surface(result, width, height, stride);
        FUZZ_CHECK(frame.storage() == FrameStorage::SharedMemory);
        // Touch the first and last byte: outside the mapping this faults.
        volatile std::uint8_t first = frame.pixels()[0], last = frame.pixels()[frame.size_bytes() - 1];
        (void)first;
        (void)last;
    }

    void scanout_dmabuf(Input& in) {
        const std::uint32_t fourcc = drm_format(in);
        const auto known = pixel_format_from_drm(fourcc);
        const std::uint32_t width = dimension(in), height = dimension(in);
        const std::uint32_t stride = stride_for(in, width, known ? known->bytes_per_pixel : 4);
        const std::uint64_t modifier = in.u8() % 2 ? 0 : in.u64();
        const bool y0_top = in.flag();
        const int fd = make_fd(in, std::uint64_t{stride} * height, 0);
        ++submitted_;
        AssemblyResult result = assembler_.scanout_dmabuf(fd, width, height, stride, fourcc, modifier, y0_top);
        if (fd >= 0 && fd != 1 << 20)
            ::close(fd);
        if (!check_result(result))
            return;
        const Frame& frame = *result.event->frame;
        check_new_surface(result, width, height, stride);
        FUZZ_CHECK(frame.storage() == FrameStorage::Dmabuf);
        FUZZ_CHECK(frame.pixels() == nullptr);
        const DmabufAttributes* attributes = frame.dmabuf();
        FUZZ_CHECK(attributes && attributes->fourcc == fourcc && attributes->modifier == modifier &&
                   attributes->num_planes == 1 && attributes->planes[0].stride == stride &&
                   attributes->planes[0].offset == 0 && attributes->y0_top == y0_top && !attributes->cropped());
        // The frame owns a duplicate, still open after the caller closed its fd.
        const int own = attributes->planes[0].fd;
        FUZZ_CHECK(own >= 0 && ::fcntl(own, F_GETFD) >= 0);
        // A linear one may be read by the CPU: all of it is there.
        if (modifier == 0 || modifier == DRM_FORMAT_MOD_INVALID)
            FUZZ_CHECK(::lseek(own, 0, SEEK_END) >= static_cast<off_t>(std::uint64_t{stride} * height));
    }

    void damage_only(Input& in, Op op) {
        const std::uint32_t extent_w = before_ ? before_->width() : 64, extent_h = before_ ? before_->height() : 64;
        const std::int32_t x = coordinate(in, extent_w), y = coordinate(in, extent_h);
        const std::int32_t width = size_of_rect(in), height = size_of_rect(in);
        ++submitted_;
        AssemblyResult result = op == Op::UpdateMap ? assembler_.update_map(x, y, width, height)
                                                    : assembler_.update_dmabuf(x, y, width, height);
        if (!check_result(result))
            return;
        FUZZ_CHECK(result.event->frame == before_);
        FUZZ_CHECK(!result.event->new_buffer);
        FUZZ_CHECK(result.event->bytes_copied == 0);
        FUZZ_CHECK(before_->storage() == (op == Op::UpdateMap ? FrameStorage::SharedMemory : FrameStorage::Dmabuf));
        check_damage(*result.event);
    }

    // false when refused (after checking that a refusal changed nothing).
    bool check_result(const AssemblyResult& result) {
        if (verbose) {
            if (result.event)
                std::fprintf(stderr, "accepted: %ux%u stride %u, damage %dx%d+%d+%d\n", result.event->frame->width(),
                             result.event->frame->height(), result.event->frame->stride(), result.event->damage.width,
                             result.event->damage.height, result.event->damage.x, result.event->damage.y);
            else
                std::fprintf(stderr, "refused: %s\n", result.refusal.c_str());
        }
        if (!result.event) {
            FUZZ_CHECK(!result.refusal.empty());
            FUZZ_CHECK(assembler_.current() == before_);
            ++refused_;
            return false;
        }
        FUZZ_CHECK(result.refusal.empty());
        FUZZ_CHECK(result.event->frame);
        FUZZ_CHECK(result.event->frame == assembler_.current());
        ++accepted_;
        const Frame& frame = *result.event->frame;
        FUZZ_CHECK(frame.width() >= 1 && frame.width() <= max_surface_dimension);
        FUZZ_CHECK(frame.height() >= 1 && frame.height() <= max_surface_dimension);
        FUZZ_CHECK(std::uint64_t{frame.stride()} >= std::uint64_t{frame.width()} * frame.format().bytes_per_pixel);
        FUZZ_CHECK(pixel_format_from_drm(frame.format().drm_fourcc) == frame.format());
        return true;
    }

    void check_new_surface(const AssemblyResult& result, std::uint32_t width, std::uint32_t height,
                           std::uint32_t stride) {
        const FrameEvent& event = *result.event;
        FUZZ_CHECK(event.new_buffer);
        FUZZ_CHECK(event.frame != before_);
        FUZZ_CHECK(event.frame->width() == width && event.frame->height() == height && event.frame->stride() == stride);
        FUZZ_CHECK(event.damage == (Rect{0, 0, std::int32_t(width), std::int32_t(height)}));
        FUZZ_CHECK(event.bytes_copied == 0);
    }

    void check_damage(const FrameEvent& event) {
        const Rect& d = event.damage;
        FUZZ_CHECK(d.x >= 0 && d.y >= 0 && d.width > 0 && d.height > 0);
        FUZZ_CHECK(std::int64_t{d.x} + d.width <= std::int64_t{event.frame->width()});
        FUZZ_CHECK(std::int64_t{d.y} + d.height <= std::int64_t{event.frame->height()});
    }

    void check_stats() {
        const FrameStats& stats = assembler_.stats();
        FUZZ_CHECK(stats.frames_received == accepted_);
        FUZZ_CHECK(stats.refused == refused_);
        FUZZ_CHECK(stats.frames_received + stats.refused == submitted_);
        FUZZ_CHECK(stats.scanouts + stats.updates == stats.frames_received);
        FUZZ_CHECK(stats.full_copies <= stats.copies);
    }

    void hold(std::uint8_t slot) {
        Held& held = held_[slot % held_.size()];
        verify(held);
        held = Held{assembler_.current(), false, {}};
    }

    // A frame the compositor holds may change only while it is current (Update in place):
    // its pixels are recorded when it stops being current and compared when it is let go.
    void freeze_held() {
        for (Held& held : held_) {
            if (!held.frozen && held.frame && held.frame->pixels() != nullptr &&
                held.frame->storage() != FrameStorage::SharedMemory && // the guest writes those
                held.frame != assembler_.current()) {
                held.frozen = true;
                held.pixels.assign(held.frame->pixels(), held.frame->pixels() + held.frame->size_bytes());
            }
        }
    }

    static void verify(const Held& held) {
        if (held.frozen)
            FUZZ_CHECK(std::memcmp(held.frame->pixels(), held.pixels.data(), held.pixels.size()) == 0);
    }

    FrameAssembler assembler_;
    std::shared_ptr<const Frame> before_;
    std::array<Held, 2> held_;
    std::uint64_t submitted_ = 0, accepted_ = 0, refused_ = 0;
};

} // namespace
} // namespace phyllome::guestview

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    phyllome::guestview::verbose = std::getenv("PHYLLOME_FUZZ_VERBOSE") != nullptr;
    phyllome::log::set_level(phyllome::config::LogLevel::Error);
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    phyllome::fuzz::Input in(data, size);
    phyllome::guestview::Harness().run(in);
    return 0;
}
