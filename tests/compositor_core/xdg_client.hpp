// A minimal Wayland client for in-process tests: one xdg-shell toplevel with a solid shm buffer,
// run on a thread of its own (its calls block; the harness's loop runs on the test's thread).
// It records the size it was configured to, whether it is fullscreen, and the keys it receives.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace phyllome::test {

class XdgClient {
public:
    struct Options {
        std::uint32_t colour = 0x808080; // its solid 0xRRGGBB picture
        // Keeps asking to be fullscreen, maximised and noticed (a new title) every 20 ms, as a
        // client that wants the screen would.
        bool pushy = false;
    };
    // Connects to WAYLAND_DISPLAY `display` in XDG_RUNTIME_DIR and maps a window.
    explicit XdgClient(std::string display) : XdgClient(std::move(display), Options{}) {}
    XdgClient(std::string display, Options options);
    ~XdgClient(); // closes the window and disconnects

    bool mapped() const { return mapped_; }
    bool failed() const { return failed_; }
    int width() const { return width_; }
    int height() const { return height_; }
    bool fullscreen() const { return fullscreen_; }
    bool has_keyboard_focus() const { return focused_; }
    std::vector<std::uint32_t> keys_pressed() const; // evdev codes

    // What the client thread saw (called on it).
    void on_focus(bool focused) { focused_ = focused; }
    void on_key(std::uint32_t key) {
        std::lock_guard lock(mutex_);
        keys_.push_back(key);
    }
    void on_configured(int width, int height, bool fullscreen) {
        width_ = width;
        height_ = height;
        fullscreen_ = fullscreen;
        mapped_ = true;
    }

    struct State;

private:
    void run(std::string display);

    const Options options_;

    std::atomic<bool> mapped_{false}, failed_{false}, fullscreen_{false}, focused_{false}, stop_{false};
    std::atomic<int> width_{0}, height_{0};
    mutable std::mutex mutex_;
    std::vector<std::uint32_t> keys_;
    int wake_[2] = {-1, -1}; // a pipe: the destructor wakes the client's poll
    std::thread thread_;
};

} // namespace phyllome::test
