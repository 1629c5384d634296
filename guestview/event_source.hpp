// Owning handle for a wl_event_source: removing the source is the only way to release it.
#pragma once

#include <memory>

#include <wayland-server-core.h>

namespace phyllome::guestview {

struct EventSourceRemover {
    void operator()(wl_event_source* source) const { wl_event_source_remove(source); }
};
using EventSourcePtr = std::unique_ptr<wl_event_source, EventSourceRemover>;

} // namespace phyllome::guestview
