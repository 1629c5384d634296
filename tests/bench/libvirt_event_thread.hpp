// The embedded driver (qemu:///embed) talks to QEMU's monitor from the process's libvirt event
// loop: a program without one of its own (a test, a benchmark tool) runs the default one on a
// thread while its connection is open. Register it once per process, before the first open.
#pragma once

#include <atomic>
#include <thread>

#include <libvirt/libvirt.h>

namespace phyllome::bench {

// A 50 ms timer wakes the loop so it sees the stop flag.
class LibvirtEventThread {
public:
    LibvirtEventThread() {
        if (virEventRegisterDefaultImpl() != 0)
            return;
        timer_ = virEventAddTimeout(50, [](int, void*) {}, nullptr, nullptr);
        thread_ = std::thread([this] {
            while (!stop_.load())
                virEventRunDefaultImpl();
        });
    }
    ~LibvirtEventThread() {
        stop_.store(true);
        if (thread_.joinable())
            thread_.join();
        if (timer_ >= 0)
            virEventRemoveTimeout(timer_);
    }
    LibvirtEventThread(const LibvirtEventThread&) = delete;
    LibvirtEventThread& operator=(const LibvirtEventThread&) = delete;

private:
    std::atomic<bool> stop_{false};
    int timer_ = -1;
    std::thread thread_;
};

} // namespace phyllome::bench
