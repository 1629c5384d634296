// DisplayConnection's calls that hand QEMU a further listener socket (audio and the like) on
// the main connection; the listeners themselves live with their users.
#include <algorithm>
#include <cstring>

#include "guestview/display/display_connection_impl.hpp"

namespace phyllome::guestview {

void DisplayConnection::Impl::register_listener_fd(const char* path, const char* interface, const char* method,
                                                   int fd, std::function<void(std::string error)> done) {
    if (!main_open_)
        return;
    FdCall& call = fd_calls_.emplace_back(FdCall{nullptr, std::move(done)});
    auto handler = [](sd_bus_message* reply, void* data, sd_bus_error*) {
        auto* self = static_cast<Impl*>(data);
        auto it = std::find_if(self->fd_calls_.begin(), self->fd_calls_.end(),
                               [&](const FdCall& c) { return c.slot.get() == sd_bus_get_current_slot(self->bus_.get()); });
        if (it == self->fd_calls_.end())
            return 0;
        const sd_bus_error* e = sd_bus_message_get_error(reply);
        auto done = std::move(it->done);
        self->fd_calls_.erase(it); // sd-bus holds its own reference to the slot while we run
        if (done)
            done(e ? (e->message ? e->message : e->name) : "");
        return 0;
    };
    sd_bus_slot* slot = nullptr;
    const int r = call_with_timeout(path, interface, method, &slot, handler, this, "h", fd);
    if (r < 0) {
        auto failed = std::move(call.done);
        fd_calls_.pop_back();
        if (failed)
            failed(std::strerror(-r));
        return;
    }
    call.slot.reset(slot);
}

void DisplayConnection::register_listener_fd(const char* path, const char* interface, const char* method, int fd,
                                             std::function<void(std::string error)> done) {
    impl_->register_listener_fd(path, interface, method, fd, std::move(done));
}

} // namespace phyllome::guestview
