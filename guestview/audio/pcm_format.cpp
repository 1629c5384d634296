#include "guestview/audio/pcm_format.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace phyllome::guestview {

std::string pcm_format_problem(const PcmFormat& f) {
    if (f.is_float ? f.bits != 32 : (f.bits != 8 && f.bits != 16 && f.bits != 32))
        return fmt::format("{}-bit {} samples", f.bits, f.is_float ? "float" : "integer");
    if (f.channels < 1 || f.channels > max_pcm_channels)
        return fmt::format("{} channels", f.channels);
    if (f.rate < 8000 || f.rate > 192000)
        return fmt::format("{} Hz", f.rate);
    if (f.bytes_per_frame != std::uint32_t(f.bits / 8) * f.channels)
        return fmt::format("{} bytes per frame for {} channels of {} bits", f.bytes_per_frame, f.channels, f.bits);
    return {};
}

void silence(const PcmFormat& f, std::span<std::uint8_t> out) {
    if (f.is_signed || f.is_float) {
        std::fill(out.begin(), out.end(), std::uint8_t{0});
        return;
    }
    const std::size_t width = f.bits / 8;
    for (std::size_t i = 0; i < out.size(); ++i) {
        const bool top_byte = f.big_endian ? i % width == 0 : i % width == width - 1;
        out[i] = top_byte ? 0x80 : 0x00;
    }
}

} // namespace phyllome::guestview
