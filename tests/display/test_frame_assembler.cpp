#include <gtest/gtest.h>
#include <drm_fourcc.h>
#include <pixman.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <vector>

#include "guestview/display/frame_assembler.hpp"

namespace phyllome::guestview {
namespace {

std::shared_ptr<const void> keep(std::vector<std::uint8_t> bytes) {
    return std::make_shared<std::vector<std::uint8_t>>(std::move(bytes));
}

// A surface whose every byte encodes its position, so misplaced copies show up.
std::vector<std::uint8_t> pattern(std::size_t size, std::uint8_t seed) {
    std::vector<std::uint8_t> bytes(size);
    for (std::size_t i = 0; i < size; ++i)
        bytes[i] = static_cast<std::uint8_t>(i * 7 + seed);
    return bytes;
}

AssemblyResult scanout_of(FrameAssembler& assembler, std::uint32_t w, std::uint32_t h, std::uint32_t stride,
                          std::uint32_t format, std::uint8_t seed = 1) {
    auto storage = std::make_shared<std::vector<std::uint8_t>>(pattern(std::size_t{stride} * h, seed));
    std::span<const std::uint8_t> data(*storage);
    return assembler.scanout(w, h, stride, format, data, storage);
}

TEST(PixelFormat, EveryDocumentedPixmanCodeMapsToItsFourcc) {
    const std::pair<std::uint32_t, std::uint32_t> table[] = {
        {0x20020888, DRM_FORMAT_XRGB8888}, {0x20028888, DRM_FORMAT_ARGB8888}, {0x20080888, DRM_FORMAT_BGRX8888},
        {0x20088888, DRM_FORMAT_BGRA8888}, {0x20030888, DRM_FORMAT_XBGR8888}, {0x20038888, DRM_FORMAT_ABGR8888},
        {0x20090888, DRM_FORMAT_RGBX8888}, {0x20098888, DRM_FORMAT_RGBA8888}, {0x10020565, DRM_FORMAT_RGB565},
        {0x10020555, DRM_FORMAT_XRGB1555}, {0x18020888, DRM_FORMAT_RGB888},   {0x18030888, DRM_FORMAT_BGR888},
        {0x20020aaa, DRM_FORMAT_XRGB2101010},
    };
    for (auto [pixman_code, fourcc] : table) {
        auto format = pixel_format_from_pixman(pixman_code);
        ASSERT_TRUE(format) << std::hex << pixman_code;
        EXPECT_EQ(format->drm_fourcc, fourcc) << std::hex << pixman_code;
        EXPECT_EQ(format->bytes_per_pixel, ((pixman_code >> 24) + 7) / 8);
        EXPECT_EQ(pixel_format_from_drm(fourcc)->pixman, pixman_code);
    }
    EXPECT_FALSE(pixel_format_from_pixman(PIXMAN_a8));
    EXPECT_FALSE(pixel_format_from_pixman(0));
}

TEST(FrameAssembler, ScanoutBorrowsTheMessageWithoutCopying) {
    FrameAssembler assembler;
    auto storage = std::make_shared<std::vector<std::uint8_t>>(pattern(64 * 4 * 8, 3));
    auto result = assembler.scanout(64, 8, 256, PIXMAN_x8r8g8b8, *storage, storage);
    ASSERT_TRUE(result.event) << result.refusal;
    const auto& event = *result.event;
    EXPECT_EQ(event.frame->pixels(), storage->data());
    EXPECT_EQ(event.frame->storage(), FrameStorage::ScanoutMessage);
    EXPECT_EQ(event.frame->format().drm_fourcc, DRM_FORMAT_XRGB8888);
    EXPECT_TRUE(event.new_buffer);
    EXPECT_EQ(event.damage, (Rect{0, 0, 64, 8}));
    EXPECT_EQ(event.bytes_copied, 0u);
    EXPECT_EQ(assembler.stats().copies, 0u);
    EXPECT_EQ(assembler.stats().frames_received, 1u);
}

// For every accepted format, with a stride wider than the row and rectangles hanging off
// each edge: the result must equal a straightforward per-pixel reference.
TEST(FrameAssembler, UpdatesLandExactlyWithPaddedStrideAtEveryEdgeInEveryFormat) {
    for (const PixelFormat& format : known_pixel_formats()) {
        SCOPED_TRACE(testing::Message() << std::hex << format.pixman);
        const std::uint32_t w = 37, h = 23, bpp = format.bytes_per_pixel;
        const std::uint32_t stride = w * bpp + 12; // padding, as a surface stride may have
        FrameAssembler assembler;
        ASSERT_TRUE(scanout_of(assembler, w, h, stride, format.pixman).event);
        std::vector<std::uint8_t> reference(assembler.current()->pixels(),
                                            assembler.current()->pixels() + std::size_t{stride} * h);
        const Rect rects[] = {{0, 0, 5, 4}, {-3, -2, 6, 5}, {w - 4, 3, 10, 2}, {2, h - 1, 4, 9},
                              {w - 1, h - 1, 1, 1}, {10, 10, 5, 5}};
        std::uint8_t seed = 50;
        for (const Rect& r : rects) {
            const std::uint32_t rect_stride = std::uint32_t(r.width) * bpp; // Update is tightly packed
            auto data = pattern(std::size_t{rect_stride} * r.height, seed++);
            auto result = assembler.update(r.x, r.y, r.width, r.height, rect_stride, format.pixman, data);
            ASSERT_TRUE(result.event) << result.refusal;
            for (std::int32_t y = 0; y < r.height; ++y)
                for (std::int32_t x = 0; x < r.width; ++x) {
                    const std::int64_t tx = r.x + x, ty = r.y + y;
                    if (tx < 0 || ty < 0 || tx >= w || ty >= h)
                        continue;
                    std::memcpy(&reference[ty * stride + tx * bpp], &data[y * rect_stride + x * bpp], bpp);
                }
            const Rect& damage = result.event->damage;
            EXPECT_GE(damage.x, 0);
            EXPECT_GE(damage.y, 0);
            EXPECT_LE(damage.x + damage.width, std::int32_t(w));
            EXPECT_LE(damage.y + damage.height, std::int32_t(h));
        }
        const Frame& frame = *assembler.current();
        EXPECT_EQ(frame.storage(), FrameStorage::OwnedBuffer);
        for (std::uint32_t y = 0; y < h; ++y)
            ASSERT_EQ(0, std::memcmp(frame.pixels() + y * stride, reference.data() + y * stride, w * bpp))
                << "row " << y;
    }
}

TEST(FrameAssembler, OnlyTheFirstUpdateAfterAScanoutCopiesTheSurface) {
    FrameAssembler assembler;
    ASSERT_TRUE(scanout_of(assembler, 100, 50, 400, PIXMAN_x8r8g8b8).event);
    auto rect = pattern(10 * 10 * 4, 9);
    auto first = assembler.update(0, 0, 10, 10, 40, PIXMAN_x8r8g8b8, rect);
    ASSERT_TRUE(first.event);
    EXPECT_TRUE(first.event->new_buffer);
    EXPECT_EQ(first.event->bytes_copied, 400u * 50 + 400);
    auto second = assembler.update(20, 20, 10, 10, 40, PIXMAN_x8r8g8b8, rect);
    ASSERT_TRUE(second.event);
    EXPECT_FALSE(second.event->new_buffer);
    EXPECT_EQ(second.event->frame, first.event->frame); // written in place
    EXPECT_EQ(second.event->bytes_copied, 400u);
    EXPECT_EQ(assembler.stats().full_copies, 1u);
    EXPECT_EQ(assembler.stats().copies, 3u);
    EXPECT_EQ(assembler.stats().bytes_copied, 400u * 50 + 800);
    // A new Scanout is zero copy again.
    auto again = scanout_of(assembler, 100, 50, 400, PIXMAN_x8r8g8b8);
    ASSERT_TRUE(again.event);
    EXPECT_EQ(again.event->frame->storage(), FrameStorage::ScanoutMessage);
}

TEST(FrameAssembler, RefusesMalformedScanouts) {
    FrameAssembler assembler;
    auto data = pattern(4096, 0);
    auto refuse = [&](std::uint32_t w, std::uint32_t h, std::uint32_t stride, std::uint32_t format,
                      std::size_t size) {
        auto result = assembler.scanout(w, h, stride, format, std::span(data).first(size), keep({}));
        EXPECT_FALSE(result.event);
        EXPECT_FALSE(result.refusal.empty());
        return result.refusal;
    };
    EXPECT_NE(refuse(0, 10, 40, PIXMAN_x8r8g8b8, 4096).find("empty"), std::string::npos);
    EXPECT_NE(refuse(16385, 1, 16385 * 4, PIXMAN_x8r8g8b8, 4096).find("exceeds"), std::string::npos);
    EXPECT_NE(refuse(10, 10, 39, PIXMAN_x8r8g8b8, 4096).find("stride"), std::string::npos);
    EXPECT_NE(refuse(10, 10, 40, PIXMAN_x8r8g8b8, 399).find("needs 400"), std::string::npos);
    EXPECT_NE(refuse(10, 10, 40, PIXMAN_a8, 4096).find("unknown pixman format"), std::string::npos);
    // Stride times height overflowing 32 bits must not wrap into "fits".
    EXPECT_FALSE(assembler.scanout(16384, 16384, 0x40000000u, PIXMAN_x8r8g8b8, data, keep({})).event);
    EXPECT_EQ(assembler.stats().refused, 6u);
    EXPECT_EQ(assembler.current(), nullptr);
}

TEST(FrameAssembler, RefusesMalformedUpdates) {
    FrameAssembler assembler;
    auto data = pattern(4096, 0);
    EXPECT_FALSE(assembler.update(0, 0, 2, 2, 8, PIXMAN_x8r8g8b8, data).event) << "no surface yet";
    ASSERT_TRUE(scanout_of(assembler, 16, 16, 64, PIXMAN_x8r8g8b8).event);
    EXPECT_FALSE(assembler.update(16, 0, 2, 2, 8, PIXMAN_x8r8g8b8, data).event) << "right of the surface";
    EXPECT_FALSE(assembler.update(-2, 0, 2, 2, 8, PIXMAN_x8r8g8b8, data).event) << "left of the surface";
    EXPECT_FALSE(assembler.update(0, 0, 0, 2, 8, PIXMAN_x8r8g8b8, data).event) << "empty";
    EXPECT_FALSE(assembler.update(0, 0, -4, 2, 8, PIXMAN_x8r8g8b8, data).event) << "negative";
    EXPECT_FALSE(assembler.update(0x7fffffff, 0x7fffffff, 16384, 16384, 8, PIXMAN_x8r8g8b8, data).event);
    EXPECT_FALSE(assembler.update(0, 0, 2, 2, 7, PIXMAN_x8r8g8b8, data).event) << "short stride";
    EXPECT_FALSE(assembler.update(0, 0, 2, 2, 8, PIXMAN_x8r8g8b8, std::span(data).first(15)).event);
    EXPECT_FALSE(assembler.update(0, 0, 2, 2, 8, PIXMAN_a8r8g8b8, data).event) << "format change";
    EXPECT_EQ(assembler.stats().refused, 9u);
    EXPECT_EQ(assembler.current()->storage(), FrameStorage::ScanoutMessage) << "nothing was copied";
}

TEST(FrameAssembler, ScanoutMapIsZeroCopyAndChecksTheMemfdSize) {
    FrameAssembler assembler;
    const std::uint32_t w = 32, h = 16, stride = 160, offset = 4096;
    int memfd = memfd_create("surface", MFD_CLOEXEC);
    ASSERT_GE(memfd, 0);
    auto bytes = pattern(offset + std::size_t{stride} * h, 5);
    ASSERT_EQ(::write(memfd, bytes.data(), bytes.size()), ssize_t(bytes.size()));
    EXPECT_FALSE(assembler.scanout_map(memfd, offset + 1, w, h, stride, PIXMAN_x8r8g8b8).event) << "past the end";
    EXPECT_FALSE(assembler.scanout_map(-1, offset, w, h, stride, PIXMAN_x8r8g8b8).event) << "bad fd";
    auto result = assembler.scanout_map(memfd, offset, w, h, stride, PIXMAN_x8r8g8b8);
    ::close(memfd); // the mapping outlives the fd
    ASSERT_TRUE(result.event) << result.refusal;
    const Frame& frame = *result.event->frame;
    EXPECT_EQ(frame.storage(), FrameStorage::SharedMemory);
    EXPECT_EQ(0, std::memcmp(frame.pixels(), bytes.data() + offset, std::size_t{stride} * h));
    auto damage = assembler.update_map(30, 10, 8, 8);
    ASSERT_TRUE(damage.event);
    EXPECT_EQ(damage.event->damage, (Rect{30, 10, 2, 6}));
    EXPECT_FALSE(damage.event->new_buffer);
    EXPECT_EQ(assembler.stats().bytes_copied, 0u);
}

TEST(FrameAssembler, LinearDmabufShorterThanItsSurfaceOrNotMemoryIsRefused) {
    FrameAssembler assembler;
    int memfd = memfd_create("dmabuf", MFD_CLOEXEC);
    ASSERT_GE(memfd, 0);
    ASSERT_EQ(ftruncate(memfd, 256 * 64 - 1), 0);
    auto result = assembler.scanout_dmabuf(memfd, 64, 64, 256, DRM_FORMAT_XRGB8888, DRM_FORMAT_MOD_LINEAR, false);
    EXPECT_FALSE(result.event);
    EXPECT_NE(result.refusal.find("needs 16384 bytes, the dmabuf has 16383"), std::string::npos) << result.refusal;
    ASSERT_EQ(ftruncate(memfd, 256 * 64), 0);
    EXPECT_TRUE(assembler.scanout_dmabuf(memfd, 64, 64, 256, DRM_FORMAT_XRGB8888, DRM_FORMAT_MOD_LINEAR, false).event);
    ::close(memfd);

    int pipe_fds[2];
    ASSERT_EQ(::pipe(pipe_fds), 0);
    result = assembler.scanout_dmabuf(pipe_fds[0], 64, 64, 256, DRM_FORMAT_XRGB8888, DRM_FORMAT_MOD_LINEAR, false);
    EXPECT_FALSE(result.event);
    EXPECT_NE(result.refusal.find("not a dmabuf"), std::string::npos) << result.refusal;
    ::close(pipe_fds[0]);
    ::close(pipe_fds[1]);
    EXPECT_EQ(assembler.stats().refused, 2u);
}

TEST(FrameAssembler, DmabufScanoutDuplicatesTheFd) {
    FrameAssembler assembler;
    int memfd = memfd_create("dmabuf", MFD_CLOEXEC);
    ASSERT_GE(memfd, 0);
    EXPECT_FALSE(assembler.scanout_dmabuf(memfd, 64, 64, 256, 0x20202020, 0, false).event) << "unknown fourcc";
    auto result = assembler.scanout_dmabuf(memfd, 64, 64, 256, DRM_FORMAT_XRGB8888, 7, true);
    ::close(memfd);
    ASSERT_TRUE(result.event);
    const DmabufAttributes* attributes = result.event->frame->dmabuf();
    ASSERT_NE(attributes, nullptr);
    ASSERT_EQ(attributes->num_planes, 1u);
    EXPECT_NE(attributes->planes[0].fd, memfd);
    EXPECT_TRUE(::fcntl(attributes->planes[0].fd, F_GETFD) & FD_CLOEXEC);
    EXPECT_FALSE(attributes->cropped()) << "v1: the whole buffer is visible";
    EXPECT_EQ(attributes->modifier, 7u);
    EXPECT_TRUE(attributes->y0_top);
    EXPECT_EQ(result.event->frame->pixels(), nullptr);
    EXPECT_FALSE(assembler.update(0, 0, 1, 1, 4, PIXMAN_x8r8g8b8, pattern(4, 0)).event);
    EXPECT_TRUE(assembler.update_dmabuf(0, 0, 64, 64).event);
    assembler.disable();
    EXPECT_EQ(assembler.current(), nullptr);
    EXPECT_FALSE(assembler.update_dmabuf(0, 0, 64, 64).event);
}

} // namespace
} // namespace phyllome::guestview

namespace phyllome::guestview {
namespace {

// The decode step alone for a 1280x800 surface: Scanout borrows (no copy), the first
// Update after it copies the surface once, later Updates copy their rectangle only.
TEST(FrameAssembler, DecodeCostOfA1280x800Surface) {
    const std::uint32_t w = 1280, h = 800, stride = w * 4;
    auto storage = std::make_shared<std::vector<std::uint8_t>>(pattern(std::size_t{stride} * h, 1));
    auto tile = pattern(64 * 64 * 4, 2);
    constexpr int rounds = 50;
    std::chrono::nanoseconds scanout{0}, promote{0}, update{0};
    FrameAssembler assembler;
    for (int i = 0; i < rounds; ++i) {
        auto t0 = std::chrono::steady_clock::now();
        ASSERT_TRUE(assembler.scanout(w, h, stride, PIXMAN_x8r8g8b8, *storage, storage).event);
        auto t1 = std::chrono::steady_clock::now();
        ASSERT_TRUE(assembler.update(0, 0, 64, 64, 256, PIXMAN_x8r8g8b8, tile).event);
        auto t2 = std::chrono::steady_clock::now();
        ASSERT_TRUE(assembler.update(640, 400, 64, 64, 256, PIXMAN_x8r8g8b8, tile).event);
        auto t3 = std::chrono::steady_clock::now();
        scanout += t1 - t0;
        promote += t2 - t1;
        update += t3 - t2;
    }
    auto us = [](std::chrono::nanoseconds d) { return double(d.count()) / rounds / 1000.0; };
    std::printf("1280x800 decode: Scanout %.2f us, first Update (surface copy) %.1f us, 64x64 Update %.2f us\n",
                us(scanout), us(promote), us(update));
    EXPECT_EQ(assembler.stats().full_copies, std::uint64_t(rounds));
    EXPECT_LT(us(scanout), 1000.0) << "Scanout must not copy the surface";
}

} // namespace
} // namespace phyllome::guestview

namespace phyllome::guestview {
namespace {

// Owned buffers are recycled across Scanouts only when the compositor let go of them.
TEST(FrameAssembler, NeverRecyclesABufferTheCompositorStillHolds) {
    FrameAssembler assembler;
    auto tile = pattern(4 * 4 * 4, 9);
    ASSERT_TRUE(scanout_of(assembler, 16, 16, 64, PIXMAN_x8r8g8b8, 1).event);
    auto held = assembler.update(0, 0, 4, 4, 16, PIXMAN_x8r8g8b8, tile).event->frame;
    const std::vector<std::uint8_t> before(held->pixels(), held->pixels() + held->size_bytes());
    ASSERT_TRUE(scanout_of(assembler, 16, 16, 64, PIXMAN_x8r8g8b8, 2).event);
    auto next = assembler.update(8, 8, 4, 4, 16, PIXMAN_x8r8g8b8, tile).event->frame;
    EXPECT_NE(next, held);
    EXPECT_EQ(0, std::memcmp(held->pixels(), before.data(), before.size()));
    // Released now: the next promotion may reuse it, and still produces the right pixels.
    const std::uint8_t* recyclable = next->pixels();
    held.reset();
    next.reset();
    auto storage = std::make_shared<std::vector<std::uint8_t>>(pattern(64 * 16, 3));
    ASSERT_TRUE(assembler.scanout(16, 16, 64, PIXMAN_x8r8g8b8, *storage, storage).event);
    auto reused = assembler.update(0, 0, 4, 4, 16, PIXMAN_x8r8g8b8, tile).event->frame;
    EXPECT_EQ(reused->pixels(), recyclable);
    EXPECT_EQ(0, std::memcmp(reused->pixels() + 4 * 64, storage->data() + 4 * 64, 64 * 12));
    EXPECT_EQ(0, std::memcmp(reused->pixels(), tile.data(), 16));
}

// The model of what the surface should show: the Scanout's bytes with each Update pasted in.
struct SurfaceModel {
    std::uint32_t width, height, stride;
    std::vector<std::uint8_t> bytes;
    void paste(std::int32_t x, std::int32_t y, std::int32_t w, std::int32_t h, const std::vector<std::uint8_t>& src) {
        for (std::int32_t row = 0; row < h; ++row)
            std::memcpy(&bytes[std::size_t(y + row) * stride + std::size_t(x) * 4], &src[std::size_t(row) * w * 4],
                        std::size_t(w) * 4);
    }
    bool matches(const Frame& f) const {
        for (std::uint32_t y = 0; y < height; ++y)
            if (std::memcmp(f.pixels() + std::size_t(y) * f.stride(), &bytes[std::size_t(y) * stride], width * 4))
                return false;
        return true;
    }
};

// An output scanning a frame out reads its memory until it shows something else: guestview
// must write later Updates elsewhere (a frame the compositor holds never changes), and the other
// buffer must show exactly what the surface holds, catching up only the tiles it missed.
TEST(FrameAssembler, NeverWritesIntoAFrameTheOutputHolds) {
    constexpr std::uint32_t w = 300, h = 12, stride = w * 4; // 300: four 64-pixel tiles and a narrower one
    FrameAssembler assembler;
    auto storage = std::make_shared<std::vector<std::uint8_t>>(pattern(std::size_t{stride} * h, 5));
    ASSERT_TRUE(assembler.scanout(w, h, stride, PIXMAN_x8r8g8b8, *storage, storage).event);
    SurfaceModel model{w, h, stride, *storage};
    auto update = [&](std::int32_t x, std::int32_t y, std::int32_t uw, std::int32_t uh, std::uint8_t seed) {
        auto bytes = pattern(std::size_t(uw) * uh * 4, seed);
        model.paste(x, y, uw, uh, bytes);
        auto r = assembler.update(x, y, uw, uh, static_cast<std::uint32_t>(uw) * 4, PIXMAN_x8r8g8b8, bytes);
        EXPECT_TRUE(r.event) << r.refusal;
        return r.event ? *r.event : FrameEvent{};
    };

    std::shared_ptr<const Frame> a = update(1, 1, 3, 3, 20).frame; // promotes to an owned buffer
    ASSERT_EQ(a->storage(), FrameStorage::OwnedBuffer);
    auto hold_a = a->hold_pixels();
    const std::vector<std::uint8_t> a_on_screen(a->pixels(), a->pixels() + a->size_bytes());

    // Held: the Update lands in a second buffer that otherwise equals the first.
    FrameEvent e = update(70, 2, 100, 3, 21);
    std::shared_ptr<const Frame> b = e.frame;
    EXPECT_NE(b, a);
    EXPECT_TRUE(e.new_buffer);
    EXPECT_EQ(0, std::memcmp(a->pixels(), a_on_screen.data(), a_on_screen.size())) << "the held frame changed";
    EXPECT_TRUE(model.matches(*b));
    // Not held: later Updates go into it in place.
    e = update(250, 9, 50, 3, 22); // the narrow last tile
    EXPECT_EQ(e.frame, b);
    EXPECT_FALSE(e.new_buffer);
    EXPECT_TRUE(model.matches(*b));

    // The output shows b now and let go of a: the next Update returns to a's memory, which is
    // behind b only in the tiles b got since (rows 2-4: tiles 1-2; rows 9-11: tiles 3-4). Those
    // are copied when the frame is read, and only where no Update wrote meanwhile.
    auto hold_b = b->hold_pixels();
    const std::vector<std::uint8_t> b_on_screen(b->pixels(), b->pixels() + b->size_bytes());
    const std::uint8_t* a_memory = a->pixels();
    hold_a.reset();
    a.reset();
    const std::uint64_t copied_before = assembler.stats().bytes_copied;
    e = update(0, 0, 64, 1, 23);
    std::shared_ptr<const Frame> c = e.frame;
    EXPECT_TRUE(e.new_buffer);
    EXPECT_EQ(update(0, 2, 300, 3, 24).frame, c);   // covers rows 2-4: nothing to catch up there
    EXPECT_EQ(update(200, 10, 20, 1, 25).frame, c); // part of tile 3 on row 10: that tile first
    EXPECT_EQ(assembler.stats().bytes_copied - copied_before,
              std::uint64_t{64 + 300 * 3 + 20} * 4 /* the Updates */ + 64 * 4 /* tile 3, row 10 */);
    EXPECT_TRUE(model.matches(*c)); // read: the rest of rows 9-11 catches up now
    EXPECT_EQ(c->pixels(), a_memory);
    EXPECT_EQ(assembler.stats().bytes_copied - copied_before,
              std::uint64_t{64 + 300 * 3 + 20} * 4 + std::uint64_t{3} * 108 * 4);
    EXPECT_EQ(0, std::memcmp(b->pixels(), b_on_screen.data(), b_on_screen.size())) << "the held frame changed";
    EXPECT_EQ(assembler.stats().held_switches, 2u);

    // Both held (b on screen, the new one still locked by a page flip): a third buffer.
    auto hold_c = c->hold_pixels();
    e = update(5, 5, 10, 2, 24);
    EXPECT_NE(e.frame, b);
    EXPECT_NE(e.frame, c);
    EXPECT_TRUE(model.matches(*e.frame));
}


// QEMU 7.2 sends a change covering the whole screen as a Scanout and a partial one as an
// Update: a guest redrawing everything alternates them. The output scans each frame out and
// holds it until its successor's page flip. Guestview must keep reusing the same few owned
// buffers across the Scanouts (each new 1280x800 buffer costs a thousand page faults), never
// one the output still holds, and still show exactly the right pixels.
TEST(FrameAssembler, AlternatingScanoutsAndUpdatesReuseTheSameBuffers) {
    constexpr std::uint32_t w = 128, h = 64, stride = w * 4;
    FrameAssembler assembler;
    SurfaceModel model{w, h, stride, {}};
    struct Shown {
        std::shared_ptr<const Frame> frame;
        std::shared_ptr<const void> hold;
        std::vector<std::uint8_t> bytes; // what the output shows from it
    };
    std::vector<Shown> output; // on screen and waiting for the page flip
    std::vector<std::weak_ptr<const Frame>> owned_seen;
    const auto show = [&](const FrameEvent& e) {
        for (const auto& s : output) { // a frame the output holds never changes
            ASSERT_EQ(0, std::memcmp(s.frame->pixels(), s.bytes.data(), s.bytes.size()));
            ASSERT_NE(s.frame, e.frame);
        }
        ASSERT_TRUE(model.matches(*e.frame));
        const std::uint8_t* p = e.frame->pixels();
        output.push_back({e.frame, e.frame->hold_pixels(), {p, p + e.frame->size_bytes()}});
        if (output.size() > 2)
            output.erase(output.begin());
        if (e.frame->storage() != FrameStorage::OwnedBuffer)
            return;
        const bool seen = std::any_of(owned_seen.begin(), owned_seen.end(), [&](const auto& w) {
            return !w.owner_before(e.frame) && !e.frame.owner_before(w);
        });
        if (!seen)
            owned_seen.push_back(e.frame);
    };
    for (std::uint8_t cycle = 0; cycle < 30; ++cycle) {
        auto storage = std::make_shared<std::vector<std::uint8_t>>(pattern(std::size_t{stride} * h, cycle));
        model.bytes = *storage;
        auto r = assembler.scanout(w, h, stride, PIXMAN_x8r8g8b8, *storage, storage);
        ASSERT_TRUE(r.event) << r.refusal;
        show(*r.event);
        for (std::int32_t y = 0; y < static_cast<std::int32_t>(h); y += 16) { // the next frame, in bands
            auto band = pattern(std::size_t{stride} * 16, static_cast<std::uint8_t>(cycle * 5 + y));
            model.paste(0, y, w, 16, band);
            r = assembler.update(0, y, w, 16, stride, PIXMAN_x8r8g8b8, band);
            ASSERT_TRUE(r.event) << r.refusal;
            show(*r.event);
        }
    }
    // Two on screen at a time and one being written: three buffers serve the whole stream.
    EXPECT_LE(owned_seen.size(), 3u);
    std::vector<const Frame*> kept;
    assembler.collect_frames(kept);
    EXPECT_LE(kept.size(), 3u); // the same three: current, back, parked
}


} // namespace
} // namespace phyllome::guestview
