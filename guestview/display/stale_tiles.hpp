// Which parts of a frame buffer are behind another buffer of the same surface, in tiles of
// one row by 64 pixels: QEMU's Updates are mostly full-width bands, which such tiles follow
// exactly. Used when guestview switches to a second buffer because the compositor holds the
// first: only the pixels the second one missed are copied over.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>


namespace phyllome::guestview {

struct Rect;

class StaleTiles {
public:
    static constexpr std::uint32_t tile_width = 64;

    // All clean, for a `width` x `height` surface.
    void reset(std::uint32_t width, std::uint32_t height);
    void mark_all();
    // Marks every tile the rectangle touches (the rectangle is inside the surface).
    void mark(const Rect& r);
    // Cleans the tiles the rectangle covers completely: they are about to be overwritten.
    void clear_covered(const Rect& r);
    bool empty() const;
    // Copies the marked tiles from `from` to `to` (same geometry) and cleans them; returns the
    // bytes copied.
    std::size_t copy_marked(const std::uint8_t* from, std::uint8_t* to, std::size_t stride, std::size_t bpp);
    // Copies, then cleans, the marked tiles that `r` touches without covering them whole (an
    // Update is about to write the rest of them), and cleans those it covers; returns the bytes.
    std::size_t copy_partly_covered(const Rect& r, const std::uint8_t* from, std::uint8_t* to, std::size_t stride,
                                    std::size_t bpp);

private:
    std::uint32_t width_ = 0, height_ = 0, columns_ = 0;
    std::vector<std::uint8_t> marked_; // row-major, columns_ per row
};

} // namespace phyllome::guestview
