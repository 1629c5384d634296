#include "guestview/display/frame_assembler.hpp"

#include <fmt/format.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <drm_fourcc.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

#include "guestview/display/bus_handles.hpp"

namespace phyllome::guestview {
namespace {

// A stride may carry padding, but no real surface needs more than 16 bytes per pixel.
constexpr std::uint64_t max_stride = std::uint64_t{max_surface_dimension} * 16;

std::string format_refusal(std::uint32_t pixman_format) {
    return fmt::format("unknown pixman format {:#010x} (no DRM equivalent)", pixman_format);
}

} // namespace

std::string check_surface(std::uint32_t width, std::uint32_t height, std::uint32_t stride,
                          std::uint32_t bytes_per_pixel) {
    if (width == 0 || height == 0)
        return fmt::format("empty surface {}x{}", width, height);
    if (width > max_surface_dimension || height > max_surface_dimension)
        return fmt::format("surface {}x{} exceeds {} pixels per side", width, height, max_surface_dimension);
    if (std::uint64_t{stride} < std::uint64_t{width} * bytes_per_pixel)
        return fmt::format("stride {} is less than width {} x {} bytes per pixel", stride, width, bytes_per_pixel);
    if (stride > max_stride)
        return fmt::format("stride {} is implausibly large", stride);
    return {};
}

AssemblyResult FrameAssembler::refused(std::string reason) {
    ++stats_->refused;
    return AssemblyResult::refuse(std::move(reason));
}

AssemblyResult FrameAssembler::publish(std::shared_ptr<Frame> frame, bool new_buffer, Rect damage,
                                       std::size_t copied) {
    ++stats_->frames_received;
    if (frame != current_)
        replace_current(std::move(frame));
    return {FrameEvent{current_, new_buffer, damage, copied, nullptr}, {}};
}

AssemblyResult FrameAssembler::scanout(std::uint32_t width, std::uint32_t height, std::uint32_t stride,
                                       std::uint32_t pixman_format, std::span<const std::uint8_t> data,
                                       std::shared_ptr<const void> keepalive) {
    auto format = pixel_format_from_pixman(pixman_format);
    if (!format)
        return refused("Scanout: " + format_refusal(pixman_format));
    if (auto why = check_surface(width, height, stride, format->bytes_per_pixel); !why.empty())
        return refused("Scanout: " + why);
    const std::uint64_t needed = std::uint64_t{stride} * height;
    if (data.size() < needed)
        return refused(fmt::format("Scanout: {} data bytes for {}x{} stride {} (needs {})", data.size(),
                                   width, height, stride, needed));
    ++stats_->scanouts;
    // Zero copy: the frame points into the message, which the keepalive holds.
    auto frame = Frame::borrowed({width, height, stride, *format}, FrameStorage::ScanoutMessage, data.data(),
                                 std::move(keepalive));
    return publish(std::move(frame), true,
                   Rect{0, 0, static_cast<std::int32_t>(width), static_cast<std::int32_t>(height)}, 0);
}

std::optional<Rect> FrameAssembler::clip_to_current(std::int32_t x, std::int32_t y, std::int32_t width,
                                                    std::int32_t height, std::string& why) {
    if (!current_) {
        why = "no surface yet (no Scanout received, or display disabled)";
        return std::nullopt;
    }
    if (width <= 0 || height <= 0 || static_cast<std::uint32_t>(width) > max_surface_dimension ||
        static_cast<std::uint32_t>(height) > max_surface_dimension) {
        why = fmt::format("bad rectangle size {}x{}", width, height);
        return std::nullopt;
    }
    // 64-bit so that x + width cannot overflow.
    const std::int64_t left = std::max<std::int64_t>(x, 0);
    const std::int64_t top = std::max<std::int64_t>(y, 0);
    const std::int64_t right = std::min<std::int64_t>(std::int64_t{x} + width, current_->width());
    const std::int64_t bottom = std::min<std::int64_t>(std::int64_t{y} + height, current_->height());
    if (left >= right || top >= bottom) {
        why = fmt::format("rectangle {}x{}+{}+{} lies outside the {}x{} surface", width, height, x, y,
                          current_->width(), current_->height());
        return std::nullopt;
    }
    return Rect{static_cast<std::int32_t>(left), static_cast<std::int32_t>(top),
                static_cast<std::int32_t>(right - left), static_cast<std::int32_t>(bottom - top)};
}

// Least-copy strategy for Update: a message- or memfd-backed surface cannot be written,
// so the first Update after a Scanout copies the surface once into an owned buffer; every
// later Update copies only its rectangle into that buffer in place. A following Scanout
// goes back to zero copy. Returns the bytes copied.
void FrameAssembler::replace_current(std::shared_ptr<Frame> frame) {
    park(std::move(current_));
    park(std::move(back_)); // a new surface: the old back buffer is no step behind it
    current_ = std::move(frame);
    // Buffers of another size can never serve this surface.
    if (current_) {
        const FrameGeometry& g = current_->geometry();
        std::erase_if(parked_, [&](const std::shared_ptr<Frame>& f) {
            return f->width() != g.width || f->height() != g.height || f->stride() != g.stride || !(f->format() == g.format);
        });
    }
}

void FrameAssembler::park(std::shared_ptr<Frame> frame) {
    if (!frame || frame->storage() != FrameStorage::OwnedBuffer)
        return;
    // Its pending catch-up is only dropped once nobody can read it any more (take_buffer):
    // the compositor may still show it. The oldest goes when there are too many.
    parked_.push_back(std::move(frame));
    if (parked_.size() > max_parked)
        parked_.erase(parked_.begin());
}

std::shared_ptr<Frame> FrameAssembler::take_buffer(const FrameGeometry& g) {
    for (auto it = parked_.rbegin(); it != parked_.rend(); ++it) {
        const auto& f = *it;
        if (f.use_count() == 1 && !f->pixels_held() && f->width() == g.width && f->height() == g.height &&
            f->stride() == g.stride && f->format() == g.format) {
            auto frame = std::move(*it);
            parked_.erase(std::next(it).base());
            frame->drop_catch_up(); // the caller overwrites it whole or sets a new catch-up
            return frame;
        }
    }
    return Frame::owned(g);
}

void FrameAssembler::leave_held_buffer() {
    const FrameGeometry& g = current_->geometry();
    std::shared_ptr<Frame> next;
    StaleTiles stale;
    if (back_ && back_.use_count() == 1 && !back_->pixels_held()) {
        next = std::move(back_); // behind only where back_stale_ says (same surface: same geometry)
        stale = std::move(back_stale_);
    } else {
        park(std::move(back_)); // still held: reusable later
        next = take_buffer(g);
        stale.reset(g.width, g.height);
        stale.mark_all();
    }
    ++stats_->held_switches;
    next->catch_up_later(current_, std::move(stale), stats_);
    back_stale_.reset(g.width, g.height);
    back_ = std::move(current_);
    current_ = std::move(next);
}

std::size_t FrameAssembler::make_current_writable() {
    if (current_->storage() == FrameStorage::OwnedBuffer)
        return 0;
    auto owned = take_buffer(current_->geometry()); // overwritten whole below
    std::memcpy(owned->writable_pixels(), current_->pixels(), current_->size_bytes());
    const std::size_t copied = current_->size_bytes();
    ++stats_->copies;
    ++stats_->full_copies;
    stats_->bytes_copied += copied;
    replace_current(std::move(owned));
    return copied;
}

AssemblyResult FrameAssembler::update(std::int32_t x, std::int32_t y, std::int32_t width, std::int32_t height,
                                      std::uint32_t stride, std::uint32_t pixman_format,
                                      std::span<const std::uint8_t> data) {
    std::string why;
    auto clipped = clip_to_current(x, y, width, height, why);
    if (!clipped)
        return refused("Update: " + why);
    if (current_->storage() == FrameStorage::Dmabuf)
        return refused("Update: the surface is a dmabuf");
    if (pixman_format != current_->format().pixman)
        return refused(fmt::format("Update: format {:#010x} differs from the surface's {:#010x}", pixman_format,
                                   current_->format().pixman));
    const std::uint32_t bpp = current_->format().bytes_per_pixel;
    if (std::uint64_t{stride} < std::uint64_t{static_cast<std::uint32_t>(width)} * bpp)
        return refused(fmt::format("Update: stride {} is less than width {} x {} bytes", stride, width, bpp));
    const std::uint64_t needed = std::uint64_t{stride} * static_cast<std::uint32_t>(height);
    if (data.size() < needed)
        return refused(fmt::format("Update: {} data bytes for {}x{} stride {} (needs {})", data.size(), width,
                                   height, stride, needed));

    bool new_buffer = current_->storage() != FrameStorage::OwnedBuffer;
    std::size_t copied = make_current_writable();
    if (current_->pixels_held()) {
        leave_held_buffer();
        new_buffer = true;
    }
    copied += current_->prepare_write(*clipped);
    // Copy only the clipped part of the rectangle.
    const std::size_t row_bytes = std::size_t{static_cast<std::uint32_t>(clipped->width)} * bpp;
    const std::uint8_t* source = data.data() + std::size_t(clipped->y - y) * stride + std::size_t(clipped->x - x) * bpp;
    std::uint8_t* target = current_->writable_pixels() + std::size_t(clipped->y) * current_->stride() +
                           std::size_t(clipped->x) * bpp;
    for (std::int32_t row = 0; row < clipped->height; ++row)
        std::memcpy(target + std::size_t(row) * current_->stride(), source + std::size_t(row) * stride, row_bytes);
    const std::size_t rect_bytes = row_bytes * static_cast<std::uint32_t>(clipped->height);
    copied += rect_bytes;
    ++stats_->copies;
    ++stats_->updates;
    stats_->bytes_copied += rect_bytes;
    if (back_)
        back_stale_.mark(*clipped);
    return publish(current_, new_buffer, *clipped, copied);
}

AssemblyResult FrameAssembler::scanout_map(int memfd, std::uint32_t offset, std::uint32_t width,
                                           std::uint32_t height, std::uint32_t stride,
                                           std::uint32_t pixman_format) {
    auto format = pixel_format_from_pixman(pixman_format);
    if (!format)
        return refused("ScanoutMap: " + format_refusal(pixman_format));
    if (auto why = check_surface(width, height, stride, format->bytes_per_pixel); !why.empty())
        return refused("ScanoutMap: " + why);
    struct stat info {};
    if (memfd < 0 || ::fstat(memfd, &info) != 0)
        return refused(fmt::format("ScanoutMap: bad fd ({})", std::strerror(errno)));
    if (!S_ISREG(info.st_mode))
        return refused("ScanoutMap: the fd is not a memfd or file");
    const std::uint64_t length = std::uint64_t{offset} + std::uint64_t{stride} * height;
    // Mapping past the end of the file would fault on read; refuse instead.
    if (info.st_size < 0 || length > static_cast<std::uint64_t>(info.st_size))
        return refused(fmt::format("ScanoutMap: offset {} + {}x{} stride {} needs {} bytes, the memfd has {}",
                                   offset, width, height, stride, length, info.st_size));
    void* address = ::mmap(nullptr, length, PROT_READ, MAP_SHARED, memfd, 0);
    if (address == MAP_FAILED)
        return refused(fmt::format("ScanoutMap: mmap failed ({})", std::strerror(errno)));
    auto mapping = std::make_shared<detail::ReadOnlyMapping>(address, length);
    ++stats_->scanouts;
    auto frame = Frame::borrowed({width, height, stride, *format}, FrameStorage::SharedMemory,
                                 mapping->data() + offset, mapping);
    return publish(std::move(frame), true,
                   Rect{0, 0, static_cast<std::int32_t>(width), static_cast<std::int32_t>(height)}, 0);
}

AssemblyResult FrameAssembler::update_map(std::int32_t x, std::int32_t y, std::int32_t width, std::int32_t height) {
    std::string why;
    auto clipped = clip_to_current(x, y, width, height, why);
    if (!clipped)
        return refused("UpdateMap: " + why);
    if (current_->storage() != FrameStorage::SharedMemory)
        return refused("UpdateMap: the surface is not a shared mapping");
    // Damage only: the mapping already shows the new pixels.
    ++stats_->updates;
    return publish(current_, false, *clipped, 0);
}

AssemblyResult FrameAssembler::scanout_dmabuf(int dmabuf_fd, std::uint32_t width, std::uint32_t height,
                                              std::uint32_t stride, std::uint32_t fourcc, std::uint64_t modifier,
                                              bool y0_top) {
    // v1 is one plane at offset 0, all of it visible (QEMU 7.2/8.0 send the buffer size, 8.1+
    // the visible size with no offset: either way this is what can be shown).
    const int fds[1] = {dmabuf_fd};
    const std::uint32_t offsets[1] = {0};
    const std::uint32_t strides[1] = {stride};
    return scanout_planes("ScanoutDMABUF", Dmabuf2Message{fds, 0, 0, width, height, offsets, strides, 1, fourcc,
                                                          width, height, modifier, y0_top});
}

AssemblyResult FrameAssembler::scanout_dmabuf2(const Dmabuf2Message& message) {
    return scanout_planes("ScanoutDMABUF2", message);
}

AssemblyResult FrameAssembler::scanout_planes(const char* what, const Dmabuf2Message& m) {
    const auto refuse = [&](const std::string& why) { return refused(fmt::format("{}: {}", what, why)); };
    if (m.num_planes == 0 || m.num_planes > max_dmabuf_planes)
        return refuse(fmt::format("{} planes (1 to {} possible)", m.num_planes, max_dmabuf_planes));
    if (m.fds.size() != m.num_planes || m.offsets.size() != m.num_planes || m.strides.size() != m.num_planes)
        return refuse(fmt::format("num_planes {} but {} fds, {} offsets, {} strides", m.num_planes, m.fds.size(),
                                  m.offsets.size(), m.strides.size()));
    auto format = pixel_format_from_drm(m.fourcc);
    if (!format)
        return refuse(fmt::format("unknown fourcc {:#010x}", m.fourcc));
    // Plane 0 holds the pixels: its rows are at least a backing row long whatever the tiling.
    // Further planes (compression metadata...) have layouts of their own: only sanity bounds.
    if (auto why = check_surface(m.backing_width, m.backing_height, m.strides[0], format->bytes_per_pixel);
        !why.empty())
        return refuse(why);
    if (m.width == 0 || m.height == 0 || std::uint64_t{m.x} + m.width > m.backing_width ||
        std::uint64_t{m.y} + m.height > m.backing_height)
        return refuse(fmt::format("visible {}x{}+{}+{} is not inside the {}x{} buffer", m.width, m.height, m.x, m.y,
                                  m.backing_width, m.backing_height));
    const bool linear = m.modifier == DRM_FORMAT_MOD_LINEAR || m.modifier == DRM_FORMAT_MOD_INVALID;
    std::array<detail::UniqueFd, max_dmabuf_planes> fds; // closed again if a later plane is refused
    DmabufAttributes attributes{m.fourcc, m.modifier, m.y0_top, m.num_planes, {}, m.backing_width,
                                m.backing_height,
                                Rect{static_cast<std::int32_t>(m.x), static_cast<std::int32_t>(m.y),
                                     static_cast<std::int32_t>(m.width), static_cast<std::int32_t>(m.height)}};
    for (std::uint32_t i = 0; i < m.num_planes; ++i) {
        const std::uint32_t offset = m.offsets[i], stride = m.strides[i];
        if (stride == 0 || stride > max_stride)
            return refuse(fmt::format("plane {} stride {} is implausible", i, stride));
        fds[i] = detail::duplicate_fd(m.fds[i]);
        if (!fds[i])
            return refuse(fmt::format("plane {}: bad fd ({})", i, std::strerror(errno)));
        // A dmabuf (or memfd) tells its size by seeking to its end; a linear one is mapped and
        // read row by row where no GPU imports it, and reading past its end would fault.
        const off_t size = ::lseek(fds[i].get(), 0, SEEK_END);
        if (size < 0)
            return refuse(fmt::format("plane {}: the fd is not a dmabuf ({})", i, std::strerror(errno)));
        // A plane starting at or past the end of its buffer cannot be. (v1's single plane at 0 is
        // not checked: its non-linear dmabufs were always accepted whatever lseek says.)
        if ((m.num_planes > 1 || offset != 0) && std::uint64_t{offset} >= static_cast<std::uint64_t>(size))
            return refuse(fmt::format("plane {} offset {} is past the dmabuf's {} bytes", i, offset, size));
        const std::uint64_t needed = std::uint64_t{offset} + std::uint64_t{stride} * m.backing_height;
        if (i == 0 && linear && static_cast<std::uint64_t>(size) < needed)
            return refuse(fmt::format("{}x{} stride {} needs {} bytes, the dmabuf has {}", m.backing_width,
                                      m.backing_height, stride, needed, size));
        attributes.planes[i] = DmabufPlane{-1, offset, stride};
    }
    for (std::uint32_t i = 0; i < m.num_planes; ++i)
        attributes.planes[i].fd = fds[i].release();
    ++stats_->scanouts;
    auto frame = Frame::dmabuf({m.width, m.height, m.strides[0], *format}, attributes);
    return publish(std::move(frame), true,
                   Rect{0, 0, static_cast<std::int32_t>(m.width), static_cast<std::int32_t>(m.height)}, 0);
}

AssemblyResult FrameAssembler::update_dmabuf(std::int32_t x, std::int32_t y, std::int32_t width,
                                             std::int32_t height) {
    std::string why;
    auto clipped = clip_to_current(x, y, width, height, why);
    if (!clipped)
        return refused("UpdateDMABUF: " + why);
    if (current_->storage() != FrameStorage::Dmabuf)
        return refused("UpdateDMABUF: the surface is not a dmabuf");
    ++stats_->updates;
    return publish(current_, false, *clipped, 0);
}

} // namespace phyllome::guestview
