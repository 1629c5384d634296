// A guest screen frame as guestview hands it to the compositor. See display_connection.hpp
// for the threading and ownership contract.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <utility>

#include "guestview/display/pixel_format.hpp"
#include "guestview/display/stale_tiles.hpp"

namespace phyllome::guestview {

struct Rect {
    std::int32_t x = 0;
    std::int32_t y = 0;
    std::int32_t width = 0;
    std::int32_t height = 0;
    bool operator==(const Rect&) const = default;
};

// Where a frame's pixels live.
enum class FrameStorage {
    ScanoutMessage, // inside the referenced sd_bus_message of a Scanout: zero copy
    OwnedBuffer,    // guestview's own buffer; Update rectangles are copied into it in place
    SharedMemory,   // read-only mmap of QEMU's memfd (ScanoutMap, QEMU 9.2+): zero copy
    Dmabuf,         // a dmabuf fd (gl=on); no CPU pointer
};

// One plane of a dmabuf. ScanoutDMABUF v1 has a single plane at offset 0; ScanoutDMABUF2
// (QEMU 10.1) up to four, e.g. a tiled colour plane plus its compression metadata plane.
struct DmabufPlane {
    int fd = -1;               // owned by the Frame (a CLOEXEC dup); dup it again to keep it longer
    std::uint32_t offset = 0;  // bytes from the start of fd
    std::uint32_t stride = 0;  // bytes per row
};

inline constexpr std::uint32_t max_dmabuf_planes = 4; // what DRM and wlr_dmabuf_attributes carry

struct DmabufAttributes {
    std::uint32_t fourcc = 0;  // DRM_FORMAT_*
    std::uint64_t modifier = 0;
    bool y0_top = false;       // true: rows are bottom-up in memory, flip when sampling
    std::uint32_t num_planes = 0;
    std::array<DmabufPlane, max_dmabuf_planes> planes{};
    // The whole buffer as allocated. The Frame's width/height are the visible part only.
    std::uint32_t backing_width = 0;
    std::uint32_t backing_height = 0;
    // The visible part of the backing buffer in displayed orientation (y counts from the top of
    // the picture as shown, also when y0_top flips it): QEMU 8.1+ scans out a sub-rectangle of a
    // larger guest resource. v1 messages carry no offset: the whole buffer is visible.
    Rect visible;

    bool cropped() const {
        return visible.x != 0 || visible.y != 0 || static_cast<std::uint32_t>(visible.width) != backing_width ||
               static_cast<std::uint32_t>(visible.height) != backing_height;
    }
    // `r` (visible-frame coordinates, as Updates and damage use) in memory rows and columns of
    // the backing buffer: moved by the visible offset and, for y0_top buffers, mirrored as
    // libmks does (y' = backing_height - (visible.y + y) - h).
    Rect to_buffer(const Rect& r) const {
        const std::int32_t x = visible.x + r.x;
        const std::int32_t y = visible.y + r.y;
        return {x, y0_top ? static_cast<std::int32_t>(backing_height) - y - r.height : y, r.width, r.height};
    }
};

struct FrameGeometry {
    std::uint32_t width = 0;
    std::uint32_t height = 0;
    std::uint32_t stride = 0; // bytes per row
    PixelFormat format;
};

struct FrameStats;

class Frame {
    struct Key { explicit Key() = default; }; // keeps construction to the factories below
public:
    Frame(Key, FrameGeometry geometry, FrameStorage storage) : geometry_(geometry), storage_(storage) {}

    // Pixels owned elsewhere (a message or a mapping) and kept alive by `keepalive`.
    static std::shared_ptr<Frame> borrowed(FrameGeometry geometry, FrameStorage storage,
                                           const std::uint8_t* pixels,
                                           std::shared_ptr<const void> keepalive);
    // An uninitialised buffer of stride*height bytes; the caller fills all of it.
    static std::shared_ptr<Frame> owned(FrameGeometry geometry);
    // Takes ownership of the fds of attributes.planes[0 .. num_planes).
    static std::shared_ptr<Frame> dmabuf(FrameGeometry geometry, DmabufAttributes attributes);

    ~Frame();
    Frame(const Frame&) = delete;
    Frame& operator=(const Frame&) = delete;

    std::uint32_t width() const { return geometry_.width; }
    std::uint32_t height() const { return geometry_.height; }
    std::uint32_t stride() const { return geometry_.stride; }
    const PixelFormat& format() const { return geometry_.format; }
    const FrameGeometry& geometry() const { return geometry_; }
    FrameStorage storage() const { return storage_; }

    // stride()*height() readable bytes; nullptr for Dmabuf. Message-backed pixels are at
    // least 4-byte aligned (D-Bus puts an ay's bytes right after its 4-aligned length).
    // Finishes a pending catch-up first (see catch_up_later).
    const std::uint8_t* pixels() const {
        settle();
        return pixels_;
    }
    // Finishes a pending catch-up: for a reader that takes the memory without pixels().
    void settle() const {
        if (catch_up_source_)
            finish_catch_up();
    }
    bool has_pixels() const { return pixels_ != nullptr; }
    std::size_t size_bytes() const { return std::size_t{geometry_.stride} * geometry_.height; }
    // nullptr unless storage() == Dmabuf.
    const DmabufAttributes* dmabuf() const;

    // OwnedBuffer only: where guestview copies Update rectangles (on the loop thread).
    std::uint8_t* writable_pixels();

    // While anyone keeps the returned token, these pixels do not change: guestview writes later
    // Updates into another buffer (FrameEvent::new_buffer). For a reader that keeps reading the
    // memory after the call that hands it over, as an output scanning the frame out does.
    // Loop thread only.
    std::shared_ptr<const void> hold_pixels() const;
    bool pixels_held() const { return !hold_.expired(); }

    // OwnedBuffer, for the assembler: the `stale` tiles still hold older pixels; they are copied
    // from `source` (same geometry, not changing meanwhile) when this frame is first read, so
    // that tiles Updates overwrite before then are never copied at all. Counted in `stats`.
    void catch_up_later(std::shared_ptr<const Frame> source, StaleTiles stale, std::shared_ptr<FrameStats> stats);
    // Before an Update writes `r` into a frame still catching up; returns the bytes copied.
    std::size_t prepare_write(const Rect& r);
    // The whole buffer is about to be overwritten: nothing to catch up.
    void drop_catch_up() { catch_up_source_.reset(); }

private:
    FrameGeometry geometry_;
    FrameStorage storage_;
    const std::uint8_t* pixels_ = nullptr;
    std::shared_ptr<const void> keepalive_;
    std::unique_ptr<std::uint8_t[]> owned_;
    DmabufAttributes dmabuf_;
    mutable std::weak_ptr<const void> hold_; // the token hold_pixels() hands out
    void finish_catch_up() const;
    void count_catch_up(std::size_t bytes) const;
    mutable std::shared_ptr<const Frame> catch_up_source_;
    mutable StaleTiles catch_up_tiles_;
    std::shared_ptr<FrameStats> catch_up_stats_;
};

// For UpdateDMABUF: QEMU blocks the guest's GL rendering until it gets the reply. The
// reply is sent by done(), by the destructor, or by guestview's fallback timer, whichever
// comes first; later calls do nothing.
class SamplingDone {
public:
    explicit SamplingDone(std::function<void()> reply) : reply_(std::move(reply)) {}
    ~SamplingDone() { done(); }
    SamplingDone(const SamplingDone&) = delete;
    SamplingDone& operator=(const SamplingDone&) = delete;
    void done() {
        if (auto reply = std::exchange(reply_, nullptr))
            reply();
    }

private:
    std::function<void()> reply_;
};

struct FrameEvent {
    std::shared_ptr<const Frame> frame;
    // true: `frame` is not the Frame of the previous event; wrap a new buffer. The old one
    // stays valid as long as you hold it.
    bool new_buffer = false;
    // What changed since the previous event, in frame coordinates, clipped to the frame.
    Rect damage;
    // Bytes guestview copied to produce this event (0 for zero-copy paths).
    std::size_t bytes_copied = 0;
    // UpdateDMABUF only: drop it (or call done()) once you finished sampling the dmabuf.
    std::shared_ptr<SamplingDone> sampling_done;
};

struct CursorShape {
    std::int32_t width = 0;
    std::int32_t height = 0;
    std::int32_t hot_x = 0;
    std::int32_t hot_y = 0;
    // width*height*4 bytes, DRM_FORMAT_ARGB8888 (B,G,R,A in memory), stride width*4.
    std::shared_ptr<const std::uint8_t[]> argb;
};

struct PointerPosition {
    std::int32_t x = 0; // guest cursor hot spot, guest pixels
    std::int32_t y = 0;
    bool visible = false;
};

// Running totals per console, for the status overlay and benchmarks.
struct FrameStats {
    std::uint64_t frames_received = 0; // accepted Scanout/Update/ScanoutMap/UpdateMap/DMABUF messages
    std::uint64_t scanouts = 0;
    std::uint64_t updates = 0;
    std::uint64_t refused = 0;         // malformed messages dropped with a logged reason
    std::uint64_t copies = 0;          // memcpy passes (one per Update rectangle, one per promotion)
    std::uint64_t full_copies = 0;     // whole-surface copies: message/mapping -> owned buffer
    std::uint64_t bytes_copied = 0;
    std::uint64_t held_switches = 0;   // Updates that found the surface held and went to another buffer
};

} // namespace phyllome::guestview
