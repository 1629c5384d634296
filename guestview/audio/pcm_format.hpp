// The sample format QEMU announces for one audio voice (AudioOutListener.Init), checked before
// anything plays it: a guest chooses these numbers.
#pragma once

#include <cstdint>
#include <span>
#include <string>

namespace phyllome::guestview {

struct PcmFormat {
    std::uint8_t bits = 16;
    bool is_signed = true;
    bool is_float = false;
    std::uint32_t rate = 44100; // frames per second
    std::uint8_t channels = 2;
    std::uint32_t bytes_per_frame = 4;
    bool big_endian = false;

    std::uint32_t bytes_per_second() const { return rate * bytes_per_frame; }
    bool operator==(const PcmFormat&) const = default;
};

inline constexpr std::uint8_t max_pcm_channels = 8;

// Empty when PipeWire can play it as it is (8/16/32-bit integers, 32-bit float, either
// endianness, 1..8 channels, 8 kHz..192 kHz, frames without padding); else why not.
std::string pcm_format_problem(const PcmFormat& format);

// Fills `out` with silence in `format`: zero for signed and float samples, the midpoint for
// unsigned ones.
void silence(const PcmFormat& format, std::span<std::uint8_t> out);

} // namespace phyllome::guestview
