// Start-up work the first frame needs late or not at all, done on a thread from the top of
// main() so it overlaps loading the backend: compiling the keymap, loading fontconfig's
// caches and the overlay's fonts, and reading the cursor theme (together about 60% of the
// main thread's instructions before the first frame when done inline).
#pragma once

#include <condition_variable>
#include <future>
#include <latch>
#include <mutex>
#include <memory>
#include <string>
#include <thread>

#include "config/config.hpp"

struct xkb_keymap;
struct wlr_xcursor_manager;
struct _PangoFontMap;

namespace phyllome::compositor {

struct KeymapUnref {
    void operator()(xkb_keymap* keymap) const;
};
using KeymapPtr = std::unique_ptr<xkb_keymap, KeymapUnref>;

struct FontMapUnref {
    void operator()(_PangoFontMap* map) const;
};
using FontMapPtr = std::unique_ptr<_PangoFontMap, FontMapUnref>;

struct CursorThemeDestroy {
    void operator()(wlr_xcursor_manager* manager) const;
};
using CursorThemePtr = std::unique_ptr<wlr_xcursor_manager, CursorThemeDestroy>;

inline constexpr int cursor_size = 24;

class StartupWarmup {
public:
    StartupWarmup(config::KeyboardConfig keyboard, config::OverlayConfig overlay);
    ~StartupWarmup(); // joins the thread
    StartupWarmup(const StartupWarmup&) = delete;
    StartupWarmup& operator=(const StartupWarmup&) = delete;

    // Each take_ waits for its result and may be called once; a null result means the work
    // failed on the thread and the caller does it the usual way (and reports the error).
    KeymapPtr take_keymap();
    // Makes the font map with the overlay's fonts loaded the calling thread's default
    // (pango's default font map is per thread).
    void use_fonts_on_this_thread();
    // The cursor theme is read only once a pointer exists (about 1.2 MB of images and 20-40 ms
    // of reading 124 files that a touch-only or headless session never shows).
    void want_cursor_theme();
    CursorThemePtr take_cursor_theme(); // implies want_cursor_theme()

private:
    std::promise<KeymapPtr> keymap_;
    std::promise<FontMapPtr> font_map_;
    std::promise<CursorThemePtr> cursor_theme_;
    std::future<KeymapPtr> keymap_result_ = keymap_.get_future();
    std::future<FontMapPtr> font_map_result_ = font_map_.get_future();
    std::future<CursorThemePtr> cursor_theme_result_ = cursor_theme_.get_future();
    std::latch fonts_loaded_{1};
    std::mutex cursor_mutex_;
    std::condition_variable_any cursor_wanted_changed_;
    bool cursor_wanted_ = false;
    // Last: they start after the promises exist.
    std::jthread fonts_thread_;
    std::jthread input_thread_;
};

// Compiles the configured keymap; falls back to xkbcommon's defaults when the configured
// layout does not compile, so a typo never leaves the user without a keyboard.
KeymapPtr compile_keymap(const config::KeyboardConfig& cfg);
// A cursor theme at `cursor_size`, loaded for scale 1; null when it cannot be created.
CursorThemePtr load_cursor_theme();

} // namespace phyllome::compositor
