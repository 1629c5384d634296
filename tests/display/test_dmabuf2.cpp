// FrameAssembler::scanout_dmabuf2 (ScanoutDMABUF2, QEMU 10.1): what a valid message becomes and
// that every malformed one is refused, counted and leaves no fd behind.
#include <gtest/gtest.h>
#include <drm_fourcc.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "guestview/display/bus_handles.hpp"
#include "guestview/display/frame_assembler.hpp"
#include "tests/display/fd_test_util.hpp"

namespace phyllome::guestview {
namespace {

using detail::UniqueFd;

using testing::memfd_of;
using testing::open_fds;

// The arrays a message carries, kept alive while a Dmabuf2Message points into them.
struct Wire {
    std::vector<int> fds;
    std::vector<std::uint32_t> offsets, strides;
    Dmabuf2Message message;
    const Dmabuf2Message& get() {
        message.fds = fds;
        message.offsets = offsets;
        message.strides = strides;
        return message;
    }
};

// 64x48 XRGB8888 backing, 32x16 of it visible at +8+4, one linear plane at offset 256.
Wire single_plane(int fd) {
    Wire w;
    w.fds = {fd};
    w.offsets = {256};
    w.strides = {64 * 4};
    w.message = {{}, 8, 4, 32, 16, {}, {}, 1, DRM_FORMAT_XRGB8888, 64, 48, DRM_FORMAT_MOD_LINEAR, false};
    return w;
}

constexpr std::size_t single_plane_bytes = 256 + 64 * 4 * 48;

TEST(Dmabuf2, SinglePlaneSubRectangleBecomesAFrameOfTheVisibleSize) {
    FrameAssembler assembler;
    UniqueFd memfd = memfd_of(single_plane_bytes);
    Wire wire = single_plane(memfd.get());
    AssemblyResult result = assembler.scanout_dmabuf2(wire.get());
    ASSERT_TRUE(result.event) << result.refusal;
    const Frame& frame = *result.event->frame;
    EXPECT_EQ(frame.storage(), FrameStorage::Dmabuf);
    EXPECT_EQ(frame.width(), 32u) << "the rest of the shell sees the visible size";
    EXPECT_EQ(frame.height(), 16u);
    EXPECT_EQ(frame.stride(), 256u);
    EXPECT_EQ(frame.format().drm_fourcc, DRM_FORMAT_XRGB8888);
    EXPECT_EQ(result.event->damage, (Rect{0, 0, 32, 16}));
    EXPECT_TRUE(result.event->new_buffer);
    const DmabufAttributes* d = frame.dmabuf();
    ASSERT_NE(d, nullptr);
    ASSERT_EQ(d->num_planes, 1u);
    EXPECT_NE(d->planes[0].fd, memfd.get());
    EXPECT_TRUE(::fcntl(d->planes[0].fd, F_GETFD) & FD_CLOEXEC);
    EXPECT_EQ(d->planes[0].offset, 256u);
    EXPECT_EQ(d->planes[0].stride, 256u);
    EXPECT_EQ(d->backing_width, 64u);
    EXPECT_EQ(d->backing_height, 48u);
    EXPECT_EQ(d->visible, (Rect{8, 4, 32, 16}));
    EXPECT_TRUE(d->cropped());
    EXPECT_EQ(d->to_buffer({1, 2, 3, 4}), (Rect{9, 6, 3, 4}));
    EXPECT_EQ(assembler.stats().scanouts, 1u);
    EXPECT_EQ(assembler.stats().refused, 0u);

    // UpdateDMABUF works on it in visible coordinates, clipped to the visible size.
    AssemblyResult update = assembler.update_dmabuf(30, 10, 100, 100);
    ASSERT_TRUE(update.event) << update.refusal;
    EXPECT_EQ(update.event->damage, (Rect{30, 10, 2, 6}));
    EXPECT_FALSE(update.event->new_buffer);
    EXPECT_FALSE(assembler.update_dmabuf(32, 0, 1, 1).event) << "outside the visible part";
}

TEST(Dmabuf2, BottomUpBuffersMirrorRowsIntoTheBacking) {
    FrameAssembler assembler;
    UniqueFd memfd = memfd_of(single_plane_bytes);
    Wire wire = single_plane(memfd.get());
    wire.message.y0_top = true;
    AssemblyResult result = assembler.scanout_dmabuf2(wire.get());
    ASSERT_TRUE(result.event) << result.refusal;
    const DmabufAttributes* d = result.event->frame->dmabuf();
    ASSERT_NE(d, nullptr);
    EXPECT_TRUE(d->y0_top);
    // libmks: y' = backing_height - (y + scanout_y) - h.
    EXPECT_EQ(d->to_buffer({0, 0, 32, 16}), (Rect{8, 48 - 4 - 16, 32, 16}));
    EXPECT_EQ(d->to_buffer({0, 15, 32, 1}), (Rect{8, 48 - 4 - 15 - 1, 32, 1}));
}

TEST(Dmabuf2, TwoPlanesKeepTheirOwnFdsOffsetsAndStridesAndCloseThemWithTheFrame) {
    const std::size_t fds_before = open_fds();
    {
        FrameAssembler assembler;
        UniqueFd colour = memfd_of(128 * 4 * 32), aux = memfd_of(4096);
        Wire wire;
        wire.fds = {colour.get(), aux.get()};
        wire.offsets = {0, 64};
        wire.strides = {128 * 4, 16};
        wire.message = {{}, 0, 0, 128, 32, {}, {}, 2, DRM_FORMAT_XRGB8888, 128, 32, I915_FORMAT_MOD_Y_TILED_CCS, false};
        AssemblyResult result = assembler.scanout_dmabuf2(wire.get());
        ASSERT_TRUE(result.event) << result.refusal;
        const DmabufAttributes* d = result.event->frame->dmabuf();
        ASSERT_NE(d, nullptr);
        ASSERT_EQ(d->num_planes, 2u);
        EXPECT_FALSE(d->cropped());
        EXPECT_EQ(d->modifier, I915_FORMAT_MOD_Y_TILED_CCS);
        EXPECT_EQ(d->planes[1].offset, 64u);
        EXPECT_EQ(d->planes[1].stride, 16u);
        for (std::uint32_t i = 0; i < 2; ++i) {
            EXPECT_GE(::fcntl(d->planes[i].fd, F_GETFD), 0);
            EXPECT_NE(d->planes[i].fd, wire.fds[i]);
        }
        EXPECT_EQ(open_fds(), fds_before + 4) << "two of ours, one duplicate per plane";
        // The same fd for both planes (one BO, two regions) is two duplicates as well.
        wire.fds = {colour.get(), colour.get()};
        ASSERT_TRUE(assembler.scanout_dmabuf2(wire.get()).event);
        result = {};
        EXPECT_EQ(open_fds(), fds_before + 4) << "the first frame's duplicates went with it";
        assembler.disable();
        EXPECT_EQ(open_fds(), fds_before + 2);
    }
    EXPECT_EQ(open_fds(), fds_before);
}

TEST(Dmabuf2, EveryMalformedMessageIsRefusedCountedAndLeaksNoFd) {
    FrameAssembler assembler;
    UniqueFd memfd = memfd_of(single_plane_bytes);
    UniqueFd small = memfd_of(single_plane_bytes - 1);
    int pipe_fds[2];
    ASSERT_EQ(::pipe2(pipe_fds, O_CLOEXEC), 0);
    UniqueFd pipe_read(pipe_fds[0]), pipe_write(pipe_fds[1]);
    const std::size_t fds_before = open_fds();

    struct Case {
        const char* name;
        std::function<void(Wire&)> spoil;
        const char* expected; // part of the refusal
    };
    const int good = memfd.get();
    const Case cases[] = {
        {"no planes", [](Wire& w) { w.message.num_planes = 0; w.fds = {}; w.offsets = {}; w.strides = {}; }, "0 planes"},
        {"five planes", [good](Wire& w) {
             w.message.num_planes = 5;
             w.fds.assign(5, good);
             w.offsets.assign(5, 0);
             w.strides.assign(5, 256);
         }, "5 planes"},
        {"fewer fds than planes", [](Wire& w) { w.message.num_planes = 2; w.offsets = {256, 0}; w.strides = {256, 64}; },
         "num_planes 2 but 1 fds"},
        {"more fds than planes", [good](Wire& w) { w.fds = {good, good}; }, "num_planes 1 but 2 fds"},
        {"offsets short", [](Wire& w) { w.offsets = {}; }, "0 offsets"},
        {"strides long", [](Wire& w) { w.strides = {256, 256}; }, "2 strides"},
        {"unknown fourcc", [](Wire& w) { w.message.fourcc = DRM_FORMAT_NV12; }, "unknown fourcc"},
        {"empty backing", [](Wire& w) { w.message.backing_width = 0; }, "empty surface"},
        {"huge backing", [](Wire& w) { w.message.backing_height = 16385; }, "exceeds"},
        {"empty visible width", [](Wire& w) { w.message.width = 0; }, "not inside"},
        {"empty visible height", [](Wire& w) { w.message.height = 0; }, "not inside"},
        {"visible past the right", [](Wire& w) { w.message.x = 33; }, "not inside"},
        {"visible past the bottom", [](Wire& w) { w.message.y = 33; }, "not inside"},
        {"visible x overflows", [](Wire& w) { w.message.x = UINT32_MAX; }, "not inside"},
        {"stride shorter than a row", [](Wire& w) { w.strides = {64 * 4 - 1}; }, "stride 255 is less"},
        {"stride implausible", [](Wire& w) { w.strides = {UINT32_MAX}; }, "implausibly large"},
        {"second plane stride 0", [good](Wire& w) {
             w.message.num_planes = 2;
             w.fds = {good, good};
             w.offsets = {256, 0};
             w.strides = {256, 0};
         }, "plane 1 stride 0"},
        {"no fd", [](Wire& w) { w.fds = {-1}; }, "plane 0: bad fd"},
        {"closed fd", [](Wire& w) { w.fds = {999}; }, "plane 0: bad fd"},
        {"a pipe", [&](Wire& w) { w.fds = {pipe_read.get()}; }, "not a dmabuf"},
        {"linear dmabuf too small", [&](Wire& w) { w.fds = {small.get()}; }, "needs 12544 bytes, the dmabuf has 12543"},
        {"offset past the end", [good](Wire& w) {
             w.message.modifier = I915_FORMAT_MOD_Y_TILED_CCS;
             w.message.num_planes = 2;
             w.fds = {good, good};
             w.offsets = {0, static_cast<std::uint32_t>(single_plane_bytes)};
             w.strides = {256, 64};
         }, "plane 1 offset 12544 is past"},
        {"second plane not a dmabuf", [&](Wire& w) {
             w.message.num_planes = 2;
             w.fds = {good, pipe_read.get()};
             w.offsets = {256, 0};
             w.strides = {256, 64};
         }, "plane 1: the fd is not a dmabuf"},
    };
    std::uint64_t refused = 0;
    for (const Case& c : cases) {
        Wire wire = single_plane(good);
        c.spoil(wire);
        AssemblyResult result = assembler.scanout_dmabuf2(wire.get());
        EXPECT_FALSE(result.event) << c.name;
        EXPECT_NE(result.refusal.find(c.expected), std::string::npos) << c.name << ": " << result.refusal;
        EXPECT_TRUE(result.refusal.starts_with("ScanoutDMABUF2: ")) << c.name << ": " << result.refusal;
        EXPECT_EQ(assembler.stats().refused, ++refused) << c.name;
        EXPECT_EQ(open_fds(), fds_before) << c.name << " left a duplicate open";
    }
    EXPECT_EQ(assembler.current(), nullptr) << "no refused message became the surface";
    EXPECT_EQ(assembler.stats().scanouts, 0u);
    Wire wire = single_plane(good);
    EXPECT_TRUE(assembler.scanout_dmabuf2(wire.get()).event) << "the unspoilt message is accepted";
}

} // namespace
} // namespace phyllome::guestview
