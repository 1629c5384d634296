// RAII for wl_listener: connected to one signal, disconnected on destruction. Not movable,
// because libwayland keeps the address of the wl_listener.
#pragma once

#include <cassert>
#include <functional>
#include <utility>

#include <wayland-server-core.h>

namespace phyllome::compositor {

template <typename Data = void>
class Listener {
public:
    using Callback = std::function<void(Data*)>;

    Listener() { wl_list_init(&link_.listener.link); link_.self = this; link_.listener.notify = &trampoline; }
    Listener(wl_signal* signal, Callback cb) : Listener() { connect(signal, std::move(cb)); }
    ~Listener() { disconnect(); }
    Listener(const Listener&) = delete;
    Listener& operator=(const Listener&) = delete;

    void connect(wl_signal* signal, Callback cb) {
        assert(!connected());
        callback_ = std::move(cb);
        wl_signal_add(signal, &link_.listener);
    }
    void disconnect() {
        wl_list_remove(&link_.listener.link);
        wl_list_init(&link_.listener.link);
    }
    bool connected() const { return !wl_list_empty(&link_.listener.link); }

private:
    // Standard layout, so wl_container_of never looks inside our non-standard-layout class.
    struct Link {
        wl_listener listener;
        Listener* self;
    };
    static void trampoline(wl_listener* listener, void* data) {
        Link* link = wl_container_of(listener, link, listener);
        // Copy: the callback may destroy this listener.
        auto cb = link->self->callback_;
        cb(static_cast<Data*>(data));
    }

    Link link_;
    Callback callback_;
};

} // namespace phyllome::compositor
