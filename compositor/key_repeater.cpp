#include "compositor/key_repeater.hpp"

#include <algorithm>

#include <wayland-server-core.h>

namespace phyllome::compositor {

KeyRepeater::KeyRepeater(wl_event_loop* loop, Send send) : send_(std::move(send)) {
    timer_.reset(wl_event_loop_add_timer(loop, on_timer, this));
}

KeyRepeater::~KeyRepeater() = default;

void KeyRepeater::set_rate(int rate_per_s, int delay_ms) {
    rate_ = rate_per_s;
    delay_ = delay_ms;
}

void KeyRepeater::pressed(std::uint32_t keycode) {
    keycode_ = keycode;
    active_ = rate_ > 0 && timer_;
    if (timer_)
        wl_event_source_timer_update(timer_.get(), active_ ? delay_ : 0);
}

void KeyRepeater::released(std::uint32_t keycode) {
    if (active_ && keycode == keycode_)
        stop();
}

void KeyRepeater::stop() {
    active_ = false;
    if (timer_)
        wl_event_source_timer_update(timer_.get(), 0);
}

int KeyRepeater::on_timer(void* data) {
    auto* self = static_cast<KeyRepeater*>(data);
    if (!self->active_)
        return 0;
    wl_event_source_timer_update(self->timer_.get(), std::max(1, 1000 / self->rate_));
    self->send_(self->keycode_);
    return 0;
}

} // namespace phyllome::compositor
