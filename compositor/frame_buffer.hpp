// Wraps a guest frame from guestview as a wlr_buffer without copying: the renderer reads the
// frame's own memory (a D-Bus message, guestview's buffer, QEMU's shared memory) or imports
// its dmabuf. The buffer holds the frame alive until wlroots drops it.
#pragma once

#include <memory>

#include "compositor/wlr.hpp"
#include "guestview/display/bus_handles.hpp"
#include "guestview/display/frame.hpp"

namespace phyllome::compositor {

struct FrameBuffer {
    wlr_buffer base; // first member: wlr_buffer* <-> FrameBuffer* by cast
    std::shared_ptr<const guestview::Frame> frame;
    // A linear dmabuf mapped for renderers that read from the CPU (pixman); lazily, once.
    guestview::detail::ReadOnlyMapping dmabuf_map; // a linear dmabuf read by the CPU, guarded

    // Returns nullptr for frames with neither CPU pixels nor a dmabuf.
    static FrameBuffer* create(std::shared_ptr<const guestview::Frame> frame);
    // The FrameBuffer behind a wlr_buffer, or nullptr when it is another kind of buffer.
    static const FrameBuffer* find(const wlr_buffer* buffer);
};

} // namespace phyllome::compositor
