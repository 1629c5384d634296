#include "guestview/display/stale_tiles.hpp"

#include <algorithm>
#include <cstring>

#include "guestview/display/frame.hpp"

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

namespace {

// One memcpy per run of marked tiles in [first, end) of row y; cleans them.
std::size_t copy_runs(std::uint8_t* row, std::uint32_t first, std::uint32_t end, std::uint32_t width, std::uint32_t y,
                      const std::uint8_t* from, std::uint8_t* to, std::size_t stride, std::size_t bpp) {
    std::size_t copied = 0;
    for (std::uint32_t c = first; c < end;) {
        if (!row[c]) {
            ++c;
            continue;
        }
        std::uint32_t stop = c;
        while (stop < end && row[stop])
            row[stop++] = 0;
        const std::size_t x0 = std::size_t{c} * StaleTiles::tile_width;
        const std::size_t x1 = std::min<std::size_t>(std::size_t{stop} * StaleTiles::tile_width, width);
        const std::size_t offset = y * stride + x0 * bpp, bytes = (x1 - x0) * bpp;
        std::memcpy(to + offset, from + offset, bytes);
        copied += bytes;
        c = stop;
    }
    return copied;
}

} // namespace

std::size_t StaleTiles::copy_marked(const std::uint8_t* from, std::uint8_t* to, std::size_t stride, std::size_t bpp) {
    std::size_t copied = 0;
    for (std::uint32_t y = 0; y < height_; ++y)
        copied += copy_runs(marked_.data() + std::size_t(y) * columns_, 0, columns_, width_, y, from, to, stride, bpp);
    return copied;
}

std::size_t StaleTiles::copy_partly_covered(const Rect& r, const std::uint8_t* from, std::uint8_t* to,
                                            std::size_t stride, std::size_t bpp) {
    if (r.width <= 0 || r.height <= 0)
        return 0;
    clear_covered(r);
    // What is left marked in the rectangle's rows is at most its first and last tile.
    const std::uint32_t first = static_cast<std::uint32_t>(r.x) / tile_width;
    const std::uint32_t last = static_cast<std::uint32_t>(r.x + r.width - 1) / tile_width;
    std::size_t copied = 0;
    for (std::int32_t y = r.y; y < r.y + r.height; ++y) {
        std::uint8_t* row = marked_.data() + std::size_t(y) * columns_;
        copied += copy_runs(row, first, first + 1, width_, static_cast<std::uint32_t>(y), from, to, stride, bpp);
        if (last != first)
            copied += copy_runs(row, last, last + 1, width_, static_cast<std::uint32_t>(y), from, to, stride, bpp);
    }
    return copied;
}

} // namespace phyllome::guestview
