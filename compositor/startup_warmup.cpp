#include "compositor/startup_warmup.hpp"

#include <chrono>
#include <csignal>

#include <pango/pangocairo.h>
#include <pthread.h>

#include "compositor/overlay_model.hpp"
#include "compositor/overlay_painter.hpp"
#include "compositor/process_stats.hpp"
#include "compositor/wlr.hpp"
#include "config/log.hpp"

namespace phyllome::compositor {

void KeymapUnref::operator()(xkb_keymap* keymap) const { xkb_keymap_unref(keymap); }
void FontMapUnref::operator()(PangoFontMap* map) const { g_object_unref(map); }
void CursorThemeDestroy::operator()(wlr_xcursor_manager* manager) const { wlr_xcursor_manager_destroy(manager); }

KeymapPtr compile_keymap(const config::KeyboardConfig& cfg) {
    xkb_context* ctx = xkb_context_new(XKB_CONTEXT_NO_FLAGS);
    if (!ctx)
        return nullptr;
    auto or_null = [](const std::string& s) { return s.empty() ? nullptr : s.c_str(); };
    xkb_rule_names names{};
    names.model = or_null(cfg.model);
    names.layout = or_null(cfg.layout);
    names.variant = or_null(cfg.variant);
    names.options = or_null(cfg.options);
    KeymapPtr keymap{xkb_keymap_new_from_names(ctx, &names, XKB_KEYMAP_COMPILE_NO_FLAGS)};
    if (!keymap) {
        log::error("keyboard: layout '{}' variant '{}' options '{}' does not compile; using the default layout",
                   cfg.layout, cfg.variant, cfg.options);
        xkb_rule_names defaults{};
        keymap.reset(xkb_keymap_new_from_names(ctx, &defaults, XKB_KEYMAP_COMPILE_NO_FLAGS));
    }
    xkb_context_unref(ctx);
    return keymap;
}

CursorThemePtr load_cursor_theme() {
    CursorThemePtr theme{wlr_xcursor_manager_create(nullptr, cursor_size)};
    if (theme && !wlr_xcursor_manager_load(theme.get(), 1))
        log::warn("the cursor theme could not be loaded; the pointer may be invisible");
    return theme;
}

namespace {

// Paints an overlay once with its own font map, so fontconfig's configuration, the fonts' files,
// pango's font sets for the overlay's sizes and the shaped text are ready before the first real
// paint. Onto one pixel: filling a full-size scratch picture and rasterising glyphs that the real
// paint rasterises again at its own size cost more than they save on the first frame's path.
FontMapPtr load_fonts(const config::OverlayConfig& style) {
    FontMapPtr map{pango_cairo_font_map_new()};
    if (!map)
        return nullptr;
    pango_cairo_font_map_set_default(PANGO_CAIRO_FONT_MAP(map.get()));
    cairo_surface_t* surface = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, 1, 1);
    cairo_t* cr = cairo_create(surface);
    const OverlayModel model;
    OverlayPaintInput in;
    in.width = 1280;
    in.height = 800;
    in.model = &model;
    in.style = &style;
    in.status_line = "libvirt qemu:///system (connected)   ·   Host ready: libvirt ✓, KVM ✓, IOMMU ✗";
    in.hotkey_help = "↑↓ select   Enter show/start   S start   D shut down   Right Ctrl+1…9 guest";
    paint_overlay(cr, in);
    cairo_destroy(cr);
    cairo_surface_destroy(surface);
    pango_cairo_font_map_set_default(nullptr); // the map moves to the main thread
    return map;
}

} // namespace

namespace {

// The server handles these on its event loop (signalfd); the warm-up threads, started before
// it blocks them, must not take them.
void block_server_signals() {
    sigset_t handled;
    sigemptyset(&handled);
    for (int sig : {SIGTERM, SIGINT, SIGHUP})
        sigaddset(&handled, sig);
    pthread_sigmask(SIG_BLOCK, &handled, nullptr);
}

using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

} // namespace

// Two threads: the fonts are on the first frame's critical path and take the longest; the
// keymap is needed as soon as a keyboard appears (at the backend's start on a VT).
StartupWarmup::StartupWarmup(config::KeyboardConfig keyboard, config::OverlayConfig overlay)
    : fonts_thread_([this, overlay = std::move(overlay)] {
          block_server_signals();
          pthread_setname_np(pthread_self(), "shell-fonts");
          const auto t = Clock::now();
          font_map_.set_value(load_fonts(overlay));
          fonts_loaded_.count_down();
          log::debug("start-up: fonts loaded in {:.1f} ms ({:.1f} ms of CPU)", ms_since(t), thread_cpu_ms());
          release_free_memory(); // the scratch picture and fontconfig's parsing leftovers
      }),
      input_thread_([this, keyboard = std::move(keyboard)](std::stop_token stop) {
          block_server_signals();
          pthread_setname_np(pthread_self(), "shell-input");
          auto t = Clock::now();
          keymap_.set_value(compile_keymap(keyboard));
          log::debug("start-up: keymap compiled in {:.1f} ms ({:.1f} ms of CPU)", ms_since(t), thread_cpu_ms());
          fonts_loaded_.wait(); // the cursor can wait; the first frame's fonts cannot
          {
              std::unique_lock lock(cursor_mutex_);
              if (!cursor_wanted_changed_.wait(lock, stop, [this] { return cursor_wanted_; })) {
                  cursor_theme_.set_value(nullptr); // shutting down without ever needing it
                  return;
              }
          }
          t = Clock::now();
          cursor_theme_.set_value(load_cursor_theme());
          log::debug("start-up: cursor theme read in {:.1f} ms", ms_since(t));
      }) {}

StartupWarmup::~StartupWarmup() = default;

KeymapPtr StartupWarmup::take_keymap() { return keymap_result_.valid() ? keymap_result_.get() : nullptr; }
void StartupWarmup::use_fonts_on_this_thread() {
    if (!font_map_result_.valid())
        return;
    const auto before = std::chrono::steady_clock::now();
    FontMapPtr fonts = font_map_result_.get();
    log::debug("start-up: waited {:.1f} ms for the fonts",
               std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - before).count());
    if (fonts)
        pango_cairo_font_map_set_default(PANGO_CAIRO_FONT_MAP(fonts.get())); // takes its own reference
}
void StartupWarmup::want_cursor_theme() {
    {
        std::lock_guard lock(cursor_mutex_);
        cursor_wanted_ = true;
    }
    cursor_wanted_changed_.notify_one();
}
CursorThemePtr StartupWarmup::take_cursor_theme() {
    if (!cursor_theme_result_.valid())
        return nullptr;
    want_cursor_theme();
    return cursor_theme_result_.get();
}

} // namespace phyllome::compositor
