#include "compositor/frame_buffer.hpp"

#include <sys/mman.h>

#include <cassert>
#include <cstdint>

#include <drm_fourcc.h>

namespace phyllome::compositor {
namespace {

FrameBuffer* from_wlr(wlr_buffer* b);

void destroy(wlr_buffer* b) {
    wlr_compat::buffer_finish(b);
    std::unique_ptr<FrameBuffer> owned(from_wlr(b)); // releases the frame and the mapping too
}

// Only a linear single-plane layout can be read row by row from the CPU; anything else fails
// begin_access, so a CPU renderer cannot make a texture and GuestView shows its message instead.
const void* map_linear_dmabuf(FrameBuffer& fb) {
    const guestview::DmabufAttributes* d = fb.frame->dmabuf();
    if (!d || d->num_planes != 1 || (d->modifier != DRM_FORMAT_MOD_LINEAR && d->modifier != DRM_FORMAT_MOD_INVALID))
        return nullptr;
    const guestview::DmabufPlane& plane = d->planes[0];
    if (!fb.dmabuf_map.data()) {
        // The whole backing buffer (the scene crops to the visible part); mmap offsets must be
        // page-aligned, plane offsets need not be: map from 0 and step over the offset.
        const std::size_t size = std::size_t{plane.offset} + std::size_t{plane.stride} * d->backing_height;
        void* p = mmap(nullptr, size, PROT_READ, MAP_SHARED, plane.fd, 0);
        if (p == MAP_FAILED)
            return nullptr;
        fb.dmabuf_map = guestview::detail::ReadOnlyMapping(p, size);
    }
    return fb.dmabuf_map.data() + plane.offset;
}

bool get_dmabuf(wlr_buffer* b, wlr_dmabuf_attributes* attribs) {
    const guestview::DmabufAttributes* d = from_wlr(b)->frame->dmabuf();
    if (!d)
        return false;
    *attribs = {};
    attribs->width = b->width; // the backing size (FrameBuffer::create)
    attribs->height = b->height;
    attribs->format = d->fourcc;
    attribs->modifier = d->modifier;
    attribs->n_planes = static_cast<int>(d->num_planes);
    for (std::uint32_t i = 0; i < d->num_planes; ++i) {
        attribs->offset[i] = d->planes[i].offset;
        attribs->stride[i] = d->planes[i].stride;
        attribs->fd[i] = d->planes[i].fd; // borrowed: the frame owns them for as long as this buffer lives
    }
    return true;
}

// Write access is granted but never used: the pixman renderer asks for it whenever it binds a
// buffer, also just to read pixels back (a screenshot of a frame the output scans out); nothing
// renders into a frame (render targets come from the output's swapchain).
bool begin_access(wlr_buffer* b, uint32_t /*flags*/, void** data, uint32_t* format, size_t* stride) {
    FrameBuffer& fb = *from_wlr(b);
    const guestview::Frame& f = *fb.frame;
    const void* pixels = f.pixels();
    std::size_t row_bytes = f.stride();
    if (!pixels && f.dmabuf()) {
        pixels = map_linear_dmabuf(fb);
        row_bytes = f.dmabuf()->planes[0].stride;
    }
    if (!pixels)
        return false;
    *data = const_cast<void*>(pixels); // renderers only read it
    *format = f.format().drm_fourcc;
    *stride = row_bytes;
    return true;
}

void end_access(wlr_buffer*) {}

const wlr_buffer_impl impl = {
    .destroy = destroy,
    .get_dmabuf = get_dmabuf,
    .get_shm = nullptr,
    .begin_data_ptr_access = begin_access,
    .end_data_ptr_access = end_access,
};

FrameBuffer* from_wlr(wlr_buffer* b) {
    assert(b->impl == &impl);
    return reinterpret_cast<FrameBuffer*>(b);
}

} // namespace

const FrameBuffer* FrameBuffer::find(const wlr_buffer* buffer) {
    return buffer && buffer->impl == &impl ? reinterpret_cast<const FrameBuffer*>(buffer) : nullptr;
}

FrameBuffer* FrameBuffer::create(std::shared_ptr<const guestview::Frame> frame) {
    if (!frame || (!frame->has_pixels() && !frame->dmabuf()))
        return nullptr;
    auto fb = std::make_unique<FrameBuffer>();
    fb->frame = std::move(frame);
    // A dmabuf frame's width/height are its visible part (ScanoutDMABUF2 sub-rectangle); the
    // buffer is the whole allocation, which the renderer imports, and GuestView crops it.
    const guestview::DmabufAttributes* d = fb->frame->dmabuf();
    const int width = static_cast<int>(d ? d->backing_width : fb->frame->width());
    const int height = static_cast<int>(d ? d->backing_height : fb->frame->height());
    wlr_buffer_init(&fb->base, &impl, width, height);
    return fb.release(); // wlroots owns it now; destroy() takes it back
}

} // namespace phyllome::compositor
