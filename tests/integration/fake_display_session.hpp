// The real shell showing a fake QEMU display (`--display fake=unix:path=...`), for integration
// tests and the frame-path benchmark. The fake peer lives on this process's own wl_event_loop,
// which nothing else drives: every wait here pumps it while polling the shell.
#pragma once

#include <wayland-server-core.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "shell_process.hpp"
#include "tests/display/fake_qemu_display.hpp"

namespace phyllome::test {

// One guest's entry of `phyllomectl status --json`, plus the top-level fields.
struct GuestStats {
    std::string view;
    std::string shown_guest; // empty when null
    std::string display;
    int scanout_width = 0, scanout_height = 0;
    std::string scanout_path; // empty when the scanout is null
    std::uint64_t frames = 0, copies = 0, bytes_copied = 0, refused = 0, frames_presented = 0;
    std::optional<double> present_p50_ms, present_p99_ms;
    double cpu_ms = 0;
    long rss_kb = 0;
    long frame_buffers_kb = 0; // of rss_kb, guest frames and output pictures
    // The first output's direct scan-out: on now, and commits that showed a frame's own buffer.
    bool output_scanout = false;
    std::uint64_t scanout_commits = 0;
};
std::optional<GuestStats> parse_guest_stats(const std::string& status_json, const std::string& guest);

// 0xRRGGBB into the little-endian x8r8g8b8 bytes QEMU sends (B, G, R, X).
void put_xrgb(std::uint8_t* p, unsigned rgb, std::uint8_t x = 0);
// A w x h frame of one colour in those bytes.
std::vector<std::uint8_t> solid_xrgb(int w, int h, unsigned rgb);

class FakeDisplaySession {
public:
    static constexpr const char* guest = "fake";
    // PIXMAN_x8r8g8b8, QEMU's usual surface format.
    static constexpr std::uint32_t xrgb = 0x20020888;

    struct Options {
        int output_width = 1280, output_height = 800;
        std::string extra_config; // appended to the shell's config file
        guestview::testing::FakeConsoleConfig console;
        // More than one console (heads): these instead of `console`.
        std::vector<guestview::testing::FakeConsoleConfig> consoles;
    };
    explicit FakeDisplaySession(Options options);
    ~FakeDisplaySession();
    FakeDisplaySession(const FakeDisplaySession&) = delete;
    FakeDisplaySession& operator=(const FakeDisplaySession&) = delete;

    ShellProcess& shell() { return *shell_; }
    guestview::testing::FakeQemuDisplay& peer() { return *peer_; }
    bool has_peer() const { return peer_ != nullptr; }
    wl_event_loop* loop() const { return loop_; }

    // Waits (pumping) until the shell shows the fake guest with its listener registered.
    bool wait_attached(std::chrono::milliseconds deadline);
    // Destroys the peer (it stops listening), or starts a new one on the same socket path.
    void drop_peer();
    void restart_peer();

    // Services the peer for up to `budget` (returns sooner when nothing is pending).
    void pump(std::chrono::milliseconds budget);
    // Pumps the peer while polling `done`; true once it holds.
    bool pump_until(const std::function<bool()>& done, std::chrono::milliseconds deadline);

    std::optional<GuestStats> stats();
    bool wait_stats(const std::function<bool(const GuestStats&)>& done, std::chrono::milliseconds deadline,
                    GuestStats* last = nullptr);
    // Pumps until a screenshot satisfies `done`; `last` receives the last screenshot taken.
    bool wait_screen(const std::function<bool(const Image&)>& done, std::chrono::milliseconds deadline,
                     std::optional<Image>* last = nullptr);

private:
    Options options_;
    std::string dir_;
    std::string socket_path_;
    wl_event_loop* loop_ = nullptr;
    std::unique_ptr<guestview::testing::FakeQemuDisplay> peer_;
    std::unique_ptr<ShellProcess> shell_;
};

} // namespace phyllome::test
