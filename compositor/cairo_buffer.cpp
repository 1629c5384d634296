#include "compositor/cairo_buffer.hpp"

#include <cassert>
#include <cmath>
#include <memory>

#include <drm_fourcc.h>

#include "compositor/scene_buffer_util.hpp"

namespace phyllome::compositor {
namespace {

CairoBuffer* from_wlr(wlr_buffer* b);

void destroy(wlr_buffer* b) {
    wlr_compat::buffer_finish(b);
    std::unique_ptr<CairoBuffer> owned(from_wlr(b));
    cairo_surface_destroy(owned->surface);
}

bool begin_access(wlr_buffer* b, uint32_t flags, void** data, uint32_t* format, size_t* stride) {
    if (flags & WLR_BUFFER_DATA_PTR_ACCESS_WRITE)
        return false; // renderers only read; we draw with cairo before handing it over
    CairoBuffer* cb = from_wlr(b);
    *data = cairo_image_surface_get_data(cb->surface);
    *format = DRM_FORMAT_ARGB8888;
    *stride = static_cast<size_t>(cairo_image_surface_get_stride(cb->surface));
    return true;
}

void end_access(wlr_buffer*) {}

const wlr_buffer_impl impl = {
    .destroy = destroy,
    .get_dmabuf = nullptr,
    .get_shm = nullptr,
    .begin_data_ptr_access = begin_access,
    .end_data_ptr_access = end_access,
};

CairoBuffer* from_wlr(wlr_buffer* b) {
    assert(b->impl == &impl);
    return reinterpret_cast<CairoBuffer*>(b);
}

} // namespace

CairoBuffer* CairoBuffer::create(int width, int height) {
    cairo_surface_t* s = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, width, height);
    if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS) {
        cairo_surface_destroy(s);
        return nullptr;
    }
    auto cb = std::make_unique<CairoBuffer>();
    cb->surface = s;
    wlr_buffer_init(&cb->base, &impl, width, height);
    return cb.release(); // wlroots owns it now; destroy() takes it back
}

wlr_scene_buffer* paint_scene_buffer(wlr_scene_tree* parent, wlr_renderer* renderer, int width, int height,
                                     double scale, const std::function<void(cairo_t*)>& paint) {
    CairoBuffer* buffer = CairoBuffer::create(static_cast<int>(std::ceil(width * scale)),
                                              static_cast<int>(std::ceil(height * scale)));
    if (!buffer)
        return nullptr;
    cairo_t* cr = cairo_create(buffer->surface);
    paint(cr);
    cairo_destroy(cr);
    cairo_surface_flush(buffer->surface);
    wlr_scene_buffer* node = scene_buffer_adopt(parent, &buffer->base, renderer);
    if (node)
        scene_buffer_fit(node, buffer->base.width, buffer->base.height, width, height);
    return node;
}

} // namespace phyllome::compositor
