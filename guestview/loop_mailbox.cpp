#include "guestview/loop_mailbox.hpp"

#include <cerrno>
#include <cstdint>
#include <system_error>

#include <sys/eventfd.h>
#include <unistd.h>

#include <wayland-server-core.h>

namespace phyllome::guestview {

LoopMailbox::LoopMailbox(wl_event_loop* loop) {
    eventfd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (eventfd_ < 0)
        throw std::system_error(errno, std::generic_category(), "eventfd");
    source_.reset(wl_event_loop_add_fd(loop, eventfd_, WL_EVENT_READABLE, &on_readable, this));
    if (!source_) {
        close(eventfd_);
        throw std::system_error(errno, std::generic_category(), "wl_event_loop_add_fd");
    }
}

LoopMailbox::~LoopMailbox() {
    *alive_ = false;
    source_.reset();
    close(eventfd_);
}

void LoopMailbox::post(std::function<void()> task) {
    {
        std::lock_guard lock{mutex_};
        tasks_.push_back(std::move(task));
    }
    const uint64_t one = 1;
    // EAGAIN means the counter is already non-zero, so the loop wakes anyway.
    [[maybe_unused]] auto written = write(eventfd_, &one, sizeof one);
}

int LoopMailbox::on_readable(int fd, uint32_t, void* data) {
    uint64_t count = 0;
    [[maybe_unused]] auto read_bytes = read(fd, &count, sizeof count);
    static_cast<LoopMailbox*>(data)->run_tasks();
    return 0;
}

void LoopMailbox::run_tasks() {
    std::deque<std::function<void()>> batch;
    {
        std::lock_guard lock{mutex_};
        batch.swap(tasks_);
    }
    const std::shared_ptr<bool> alive = alive_;
    for (auto& task : batch) {
        task();
        if (!*alive)
            return; // a task destroyed the owner; the rest belong to it and are dropped
    }
}

} // namespace phyllome::guestview
