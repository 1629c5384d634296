#include "guestview/display/pixel_format.hpp"

#include <drm_fourcc.h>
#include <pixman.h>

#include <algorithm>
#include <array>

namespace phyllome::guestview {
namespace {

constexpr std::uint32_t bytes_for(pixman_format_code_t code) {
    return (PIXMAN_FORMAT_BPP(code) + 7) / 8;
}

constexpr PixelFormat entry(pixman_format_code_t code, std::uint32_t fourcc) {
    return PixelFormat{static_cast<std::uint32_t>(code), fourcc, bytes_for(code)};
}

// pixman names pack components into a host-endian word from the most significant bit,
// DRM names list them from the most significant bit of a little-endian word: on a
// little-endian host x8r8g8b8 == XRGB8888 and so on.
constexpr std::array formats{
    // The virtio-gpu 2D formats (docs/qemu-dbus-display.md §3.3).
    entry(PIXMAN_x8r8g8b8, DRM_FORMAT_XRGB8888),
    entry(PIXMAN_a8r8g8b8, DRM_FORMAT_ARGB8888),
    entry(PIXMAN_b8g8r8x8, DRM_FORMAT_BGRX8888),
    entry(PIXMAN_b8g8r8a8, DRM_FORMAT_BGRA8888),
    entry(PIXMAN_x8b8g8r8, DRM_FORMAT_XBGR8888),
    entry(PIXMAN_a8b8g8r8, DRM_FORMAT_ABGR8888),
    entry(PIXMAN_r8g8b8x8, DRM_FORMAT_RGBX8888),
    entry(PIXMAN_r8g8b8a8, DRM_FORMAT_RGBA8888),
    // Other depths VGA-family and GL paths can produce.
    entry(PIXMAN_r8g8b8, DRM_FORMAT_RGB888),
    entry(PIXMAN_b8g8r8, DRM_FORMAT_BGR888),
    entry(PIXMAN_r5g6b5, DRM_FORMAT_RGB565),
    entry(PIXMAN_b5g6r5, DRM_FORMAT_BGR565),
    entry(PIXMAN_x1r5g5b5, DRM_FORMAT_XRGB1555),
    entry(PIXMAN_a1r5g5b5, DRM_FORMAT_ARGB1555),
    entry(PIXMAN_x1b5g5r5, DRM_FORMAT_XBGR1555),
    entry(PIXMAN_a1b5g5r5, DRM_FORMAT_ABGR1555),
    entry(PIXMAN_x4r4g4b4, DRM_FORMAT_XRGB4444),
    entry(PIXMAN_a4r4g4b4, DRM_FORMAT_ARGB4444),
    entry(PIXMAN_x2r10g10b10, DRM_FORMAT_XRGB2101010),
    entry(PIXMAN_a2r10g10b10, DRM_FORMAT_ARGB2101010),
    entry(PIXMAN_x2b10g10r10, DRM_FORMAT_XBGR2101010),
    entry(PIXMAN_a2b10g10r10, DRM_FORMAT_ABGR2101010),
};

} // namespace

std::optional<PixelFormat> pixel_format_from_pixman(std::uint32_t pixman_code) {
    auto it = std::ranges::find(formats, pixman_code, &PixelFormat::pixman);
    if (it == formats.end())
        return std::nullopt;
    return *it;
}

std::optional<PixelFormat> pixel_format_from_drm(std::uint32_t drm_fourcc) {
    auto it = std::ranges::find(formats, drm_fourcc, &PixelFormat::drm_fourcc);
    if (it == formats.end())
        return std::nullopt;
    return *it;
}

std::span<const PixelFormat> known_pixel_formats() { return formats; }

} // namespace phyllome::guestview
