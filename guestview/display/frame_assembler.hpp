// Turns validated Listener messages into Frames and damage for one console. Pure logic:
// no D-Bus, no event loop, so every malformed case is unit-testable. Runs on the loop thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "guestview/display/frame.hpp"
#include "guestview/display/stale_tiles.hpp"

namespace phyllome::guestview {

inline constexpr std::uint32_t max_surface_dimension = 16384;

// A ScanoutDMABUF2 message (QEMU 10.1, Listener.Unix.ScanoutDMABUF2) as read from the wire,
// before any check: the arrays are as long as the peer made them.
struct Dmabuf2Message {
    std::span<const int> fds;                 // borrowed (the message's); duplicated when accepted
    std::uint32_t x = 0;                      // visible sub-rectangle of the backing buffer
    std::uint32_t y = 0;
    std::uint32_t width = 0;
    std::uint32_t height = 0;
    std::span<const std::uint32_t> offsets;
    std::span<const std::uint32_t> strides;
    std::uint32_t num_planes = 0;
    std::uint32_t fourcc = 0;
    std::uint32_t backing_width = 0;
    std::uint32_t backing_height = 0;
    std::uint64_t modifier = 0;
    bool y0_top = false;
};

// Either the event to publish or why the message was refused (the caller logs it with
// the guest's name).
struct AssemblyResult {
    std::optional<FrameEvent> event;
    std::string refusal;
    static AssemblyResult refuse(std::string reason) { return {std::nullopt, std::move(reason)}; }
};

class FrameAssembler {
public:
    // `keepalive` owns `data` (the Scanout message): the frame borrows it without copying.
    AssemblyResult scanout(std::uint32_t width, std::uint32_t height, std::uint32_t stride,
                           std::uint32_t pixman_format, std::span<const std::uint8_t> data,
                           std::shared_ptr<const void> keepalive);
    // `data` is only read during the call.
    AssemblyResult update(std::int32_t x, std::int32_t y, std::int32_t width, std::int32_t height,
                          std::uint32_t stride, std::uint32_t pixman_format,
                          std::span<const std::uint8_t> data);
    // `memfd` is borrowed; the mapping outlives it.
    AssemblyResult scanout_map(int memfd, std::uint32_t offset, std::uint32_t width, std::uint32_t height,
                               std::uint32_t stride, std::uint32_t pixman_format);
    AssemblyResult update_map(std::int32_t x, std::int32_t y, std::int32_t width, std::int32_t height);
    // `dmabuf_fd` is borrowed and duplicated.
    AssemblyResult scanout_dmabuf(int dmabuf_fd, std::uint32_t width, std::uint32_t height,
                                  std::uint32_t stride, std::uint32_t fourcc, std::uint64_t modifier,
                                  bool y0_top);
    // The frame's width/height are the visible size; its DmabufAttributes keep the backing
    // size, the sub-rectangle and every plane (fds duplicated).
    AssemblyResult scanout_dmabuf2(const Dmabuf2Message& message);
    AssemblyResult update_dmabuf(std::int32_t x, std::int32_t y, std::int32_t width, std::int32_t height);
    // Disable: the display is off until the next scanout.
    void disable() {
        current_.reset();
        parked_.clear();
        back_.reset();
    }

    // A message refused before it reached the assembler (unreadable, bad cursor...).
    void count_refusal() { ++stats_->refused; }

    std::shared_ptr<const Frame> current() const { return current_; }
    // Every frame it keeps (current, back and parked), for memory accounting.
    void collect_frames(std::vector<const Frame*>& out) const {
        for (const auto* f : {current_.get(), back_.get()})
            if (f)
                out.push_back(f);
        for (const auto& f : parked_)
            out.push_back(f.get());
    }
    const FrameStats& stats() const { return *stats_; }

private:
    // Both ScanoutDMABUF versions end here; `what` names the method in refusals.
    AssemblyResult scanout_planes(const char* what, const Dmabuf2Message& message);
    AssemblyResult publish(std::shared_ptr<Frame> frame, bool new_buffer, Rect damage, std::size_t copied);
    AssemblyResult refused(std::string reason);
    std::optional<Rect> clip_to_current(std::int32_t x, std::int32_t y, std::int32_t width,
                                        std::int32_t height, std::string& why);
    std::size_t make_current_writable();
    // The compositor holds the current owned buffer (Frame::hold_pixels): continue in the other
    // one, which catches up with it lazily (Frame::catch_up_later).
    void leave_held_buffer();

    // Replaces current_, parking the owned buffers it leaves behind (current_ and back_).
    void replace_current(std::shared_ptr<Frame> frame);
    // Keeps an owned buffer that is no longer current for reuse (see parked_).
    void park(std::shared_ptr<Frame> frame);
    // A parked buffer of geometry `g` that nobody else holds any more, else a new one.
    std::shared_ptr<Frame> take_buffer(const FrameGeometry& g);

    std::shared_ptr<Frame> current_;
    // Owned buffers that stopped being current, including those the compositor still held then
    // (an output scanning one out, a page flip pending); reused once it lets go, most recent
    // first. A guest that alternates Scanouts and Updates (QEMU 7.2 sends a whole-screen change
    // as a Scanout) would otherwise free both of its 4 MB buffers at every Scanout and allocate
    // them again at the next Update: glibc hands the freed memory back to the kernel, and each
    // new buffer costs a thousand page faults. At most max_parked, of the current geometry:
    // one on screen, one waiting for its page flip and one being written are all a stream
    // needs, and at a Scanout all three may be parked at once.
    static constexpr std::size_t max_parked = 3;
    std::vector<std::shared_ptr<Frame>> parked_;
    // The owned buffer that was current before the last switch away from a held one, and which
    // of its tiles are behind current_ (written since). Reused once the compositor lets go of it.
    std::shared_ptr<Frame> back_;
    StaleTiles back_stale_;
    // Shared with frames that catch up lazily, which count their copies here.
    std::shared_ptr<FrameStats> stats_ = std::make_shared<FrameStats>();
};

// Checks shared by every scanout path; empty when the geometry is acceptable.
std::string check_surface(std::uint32_t width, std::uint32_t height, std::uint32_t stride,
                          std::uint32_t bytes_per_pixel);

} // namespace phyllome::guestview
