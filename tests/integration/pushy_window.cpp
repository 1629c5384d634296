// A host application that wants the screen, for the secure-attention tests: one fullscreen
// window in a solid colour (0xd02090) that asks to be fullscreen, maximised and noticed every
// 20 ms, and prints the evdev code of every key it receives, one a line, on stdout. Runs until
// SIGTERM or SIGINT.
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>

#include "tests/compositor_core/xdg_client.hpp"

int main() {
    const char* display = std::getenv("WAYLAND_DISPLAY");
    if (!display) {
        std::fprintf(stderr, "pushy-window: WAYLAND_DISPLAY is not set\n");
        return 2;
    }
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    sigprocmask(SIG_BLOCK, &stop, nullptr);
    phyllome::test::XdgClient window(display, {0xd02090, true});
    std::size_t printed = 0;
    const timespec tick{0, 20'000'000};
    while (sigtimedwait(&stop, nullptr, &tick) < 0) {
        if (window.failed()) {
            std::fprintf(stderr, "pushy-window: cannot connect or bind xdg-shell\n");
            return 1;
        }
        const auto keys = window.keys_pressed();
        for (; printed < keys.size(); ++printed)
            std::printf("%u\n", keys[printed]);
        std::fflush(stdout);
    }
    return 0;
}
