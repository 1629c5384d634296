// A tiny UsbWatcher client for the cross-process testbed test: prints the devices present, then
// "ready", then one line per plug and unplug; exits when its stdin closes.
#include <cstdio>
#include <string>

#include <unistd.h>
#include <wayland-server-core.h>

#include "guestview/usb/usb_watcher.hpp"

using phyllome::guestview::usb::UsbDevice;
using phyllome::guestview::usb::UsbWatcher;

namespace {

void print(const char* what, const UsbDevice& device) {
    std::printf("%s %s %s %s\n", what, device.sysname.c_str(), device.id().c_str(), device.name().c_str());
    std::fflush(stdout);
}

int on_stdin(int fd, std::uint32_t mask, void* data) {
    char buffer[64];
    if ((mask & (WL_EVENT_HANGUP | WL_EVENT_ERROR)) || read(fd, buffer, sizeof buffer) <= 0)
        *static_cast<bool*>(data) = true;
    return 0;
}

} // namespace

int main() {
    wl_event_loop* loop = wl_event_loop_create();
    bool done = false;
    int status = 0;
    {
        std::string error;
        UsbWatcher::Callbacks callbacks{
            .added = [](const UsbDevice& device) { print("added", device); },
            .removed = [](const UsbDevice& device) { print("removed", device); },
        };
        std::unique_ptr<UsbWatcher> watcher = UsbWatcher::create(loop, std::move(callbacks), error);
        if (!watcher) {
            std::printf("error %s\n", error.c_str());
            status = 1;
        } else {
            for (const UsbDevice& device : watcher->devices())
                print("present", device);
            std::printf("ready\n");
            std::fflush(stdout);
            wl_event_source* input = wl_event_loop_add_fd(loop, STDIN_FILENO, WL_EVENT_READABLE, on_stdin, &done);
            while (!done && wl_event_loop_dispatch(loop, -1) >= 0) {
            }
            wl_event_source_remove(input);
        }
    }
    wl_event_loop_destroy(loop);
    return status;
}
