#include "compositor/frame_buffer.hpp"

#include <sys/mman.h>

#include <cassert>

#include <drm_fourcc.h>

namespace phyllome::compositor {
namespace {

FrameBuffer* from_wlr(wlr_buffer* b);

void destroy(wlr_buffer* b) {
    wlr_compat::buffer_finish(b);
    std::unique_ptr<FrameBuffer> owned(from_wlr(b)); // releases the frame and the mapping too
}

// Only linear layouts can be read row by row from the CPU.
const void* map_linear_dmabuf(FrameBuffer& fb) {
    const guestview::DmabufAttributes* d = fb.frame->dmabuf();
    if (!d || (d->modifier != DRM_FORMAT_MOD_LINEAR && d->modifier != DRM_FORMAT_MOD_INVALID))
        return nullptr;
    if (!fb.dmabuf_map.data()) {
        const std::size_t size = std::size_t{d->stride} * fb.frame->height();
        void* p = mmap(nullptr, size, PROT_READ, MAP_SHARED, d->fd, 0);
        if (p == MAP_FAILED)
            return nullptr;
        fb.dmabuf_map = guestview::detail::ReadOnlyMapping(p, size);
    }
    return fb.dmabuf_map.data();
}

bool get_dmabuf(wlr_buffer* b, wlr_dmabuf_attributes* attribs) {
    const guestview::DmabufAttributes* d = from_wlr(b)->frame->dmabuf();
    if (!d)
        return false;
    *attribs = {};
    attribs->width = b->width;
    attribs->height = b->height;
    attribs->format = d->fourcc;
    attribs->modifier = d->modifier;
    attribs->n_planes = 1;
    attribs->offset[0] = 0;
    attribs->stride[0] = d->stride;
    attribs->fd[0] = d->fd; // borrowed: the frame owns it for as long as this buffer lives
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
        row_bytes = f.dmabuf()->stride;
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
    wlr_buffer_init(&fb->base, &impl, static_cast<int>(fb->frame->width()), static_cast<int>(fb->frame->height()));
    return fb.release(); // wlroots owns it now; destroy() takes it back
}

} // namespace phyllome::compositor
