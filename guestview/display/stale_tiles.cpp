#include "guestview/display/stale_tiles.hpp"

#include <algorithm>
#include <cstring>

namespace phyllome::guestview {

void StaleTiles::reset(std::uint32_t width, std::uint32_t height) {
    width_ = width;
    height_ = height;
    columns_ = (width + tile_width - 1) / tile_width;
    marked_.assign(std::size_t{columns_} * height_, 0);
}

void StaleTiles::mark_all() { std::fill(marked_.begin(), marked_.end(), 1); }

void StaleTiles::mark(const Rect& r) {
    if (r.width <= 0 || r.height <= 0)
        return;
    const std::uint32_t first = static_cast<std::uint32_t>(r.x) / tile_width;
    const std::uint32_t last = static_cast<std::uint32_t>(r.x + r.width - 1) / tile_width;
    for (std::int32_t y = r.y; y < r.y + r.height; ++y) {
        std::uint8_t* row = marked_.data() + std::size_t(y) * columns_;
        std::fill(row + first, row + last + 1, 1);
    }
}

void StaleTiles::clear_covered(const Rect& r) {
    if (r.width <= 0 || r.height <= 0)
        return;
    const auto left = static_cast<std::uint32_t>(r.x), right = static_cast<std::uint32_t>(r.x + r.width);
    // Tiles whose pixels all lie in [left, right); the last tile of a row may be narrower.
    const std::uint32_t first = (left + tile_width - 1) / tile_width;
    std::uint32_t end = right / tile_width;
    if (right == width_)
        end = columns_;
    if (first >= end)
        return;
    for (std::int32_t y = r.y; y < r.y + r.height; ++y) {
        std::uint8_t* row = marked_.data() + std::size_t(y) * columns_;
        std::fill(row + first, row + end, 0);
    }
}

bool StaleTiles::empty() const { return std::find(marked_.begin(), marked_.end(), 1) == marked_.end(); }

std::size_t StaleTiles::copy_marked(const Frame& from, Frame& to) {
    const std::size_t bpp = from.format().bytes_per_pixel, stride = from.stride();
    const std::uint8_t* src = from.pixels();
    std::uint8_t* dst = to.writable_pixels();
    std::size_t copied = 0;
    for (std::uint32_t y = 0; y < height_; ++y) {
        std::uint8_t* row = marked_.data() + std::size_t(y) * columns_;
        // One memcpy per run of marked tiles.
        for (std::uint32_t c = 0; c < columns_;) {
            if (!row[c]) {
                ++c;
                continue;
            }
            std::uint32_t end = c;
            while (end < columns_ && row[end])
                row[end++] = 0;
            const std::size_t x0 = std::size_t{c} * tile_width;
            const std::size_t x1 = std::min<std::size_t>(std::size_t{end} * tile_width, width_);
            const std::size_t offset = y * stride + x0 * bpp, bytes = (x1 - x0) * bpp;
            std::memcpy(dst + offset, src + offset, bytes);
            copied += bytes;
            c = end;
        }
    }
    return copied;
}

} // namespace phyllome::guestview
