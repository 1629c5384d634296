// Runs tasks posted from any thread on the wl_event_loop's thread, woken through an eventfd.
#pragma once

#include <deque>
#include <functional>
#include <memory>
#include <mutex>

#include "guestview/event_source.hpp"

struct wl_event_loop;

namespace phyllome::guestview {

class LoopMailbox {
public:
    // Throws std::system_error when the eventfd cannot be created or added to the loop.
    explicit LoopMailbox(wl_event_loop* loop);
    ~LoopMailbox();
    LoopMailbox(const LoopMailbox&) = delete;
    LoopMailbox& operator=(const LoopMailbox&) = delete;

    // Thread-safe. Tasks run in posting order; tasks still queued at destruction are dropped.
    void post(std::function<void()> task);

private:
    static int on_readable(int fd, uint32_t mask, void* data);
    void run_tasks();

    int eventfd_ = -1;
    EventSourcePtr source_;
    std::mutex mutex_;
    std::deque<std::function<void()>> tasks_;
    // Lets run_tasks notice that a task destroyed this mailbox.
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

} // namespace phyllome::guestview
