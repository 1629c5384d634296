#include "guestview/audio/pcm_format.hpp"

#include <fmt/format.h>

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

} // namespace phyllome::guestview
