// QEMU sends pixman format codes; the compositor speaks DRM fourccs.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

namespace phyllome::guestview {

struct PixelFormat {
    std::uint32_t pixman = 0;      // pixman_format_code_t as QEMU sent it
    std::uint32_t drm_fourcc = 0;  // DRM_FORMAT_* with the same memory layout (little-endian host)
    std::uint32_t bytes_per_pixel = 0;
    bool operator==(const PixelFormat&) const = default;
};

// nullopt for codes without a DRM equivalent (the caller refuses the frame).
std::optional<PixelFormat> pixel_format_from_pixman(std::uint32_t pixman_code);

// nullopt for fourccs guestview does not know (dmabuf scanouts are refused then).
std::optional<PixelFormat> pixel_format_from_drm(std::uint32_t drm_fourcc);

// Every format guestview accepts, for tests and for the compositor's format negotiation.
std::span<const PixelFormat> known_pixel_formats();

} // namespace phyllome::guestview
