// Reads a fuzz input front to back as little-endian integers and byte strings; past the end
// every read gives zeros. Simple enough that tests/fuzz/make_seeds.py writes the same format.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string_view>
#include <vector>

namespace phyllome::fuzz {

class Input {
public:
    Input(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}

    bool empty() const { return offset_ >= size_; }
    std::size_t left() const { return empty() ? 0 : size_ - offset_; }

    std::uint8_t u8() { return static_cast<std::uint8_t>(little_endian(1)); }
    std::uint16_t u16() { return static_cast<std::uint16_t>(little_endian(2)); }
    std::uint32_t u32() { return static_cast<std::uint32_t>(little_endian(4)); }
    std::uint64_t u64() { return little_endian(8); }
    std::int32_t i32() { return static_cast<std::int32_t>(u32()); }
    bool flag() { return u8() & 1; }

    // Up to `count` bytes (fewer at the end of the input).
    std::span<const std::uint8_t> bytes(std::size_t count) {
        const std::size_t n = count < left() ? count : left();
        if (n == 0)
            return {};
        std::span<const std::uint8_t> out(data_ + offset_, n);
        offset_ += n;
        return out;
    }
    std::string_view text(std::size_t count) {
        auto b = bytes(count);
        return {reinterpret_cast<const char*>(b.data()), b.size()};
    }

private:
    std::uint64_t little_endian(std::size_t width) {
        std::uint64_t value = 0;
        for (std::size_t i = 0; i < width; ++i, ++offset_)
            if (offset_ < size_)
                value |= std::uint64_t{data_[offset_]} << (8 * i);
        return value;
    }

    const std::uint8_t* data_;
    std::size_t size_;
    std::size_t offset_ = 0;
};

// Aborts with a message: libFuzzer reports it as a crash and keeps the input.
[[noreturn]] inline void fail(const char* what) {
    std::fprintf(stderr, "fuzz invariant violated: %s\n", what);
    std::abort();
}

// `size` bytes that encode their position (so misplaced copies show up), from a table built
// once: filling megabytes byte by byte in instrumented code would dominate a run.
inline std::vector<std::uint8_t> pattern(std::size_t size, std::uint8_t seed) {
    constexpr std::size_t table_size = (1u << 20) + 256; // the largest payload + a seed
    static const std::vector<std::uint8_t> table = [] {
        std::vector<std::uint8_t> t(table_size);
        for (std::size_t i = 0; i < t.size(); ++i)
            t[i] = static_cast<std::uint8_t>(i * 7 + (i >> 8) * 13 + (i >> 16));
        return t;
    }();
    if (size > table_size - seed)
        fail("pattern larger than the table");
    return std::vector<std::uint8_t>(table.begin() + seed, table.begin() + seed + static_cast<std::ptrdiff_t>(size));
}

} // namespace phyllome::fuzz

#define FUZZ_CHECK(condition)                                                                          \
    do {                                                                                              \
        if (!(condition))                                                                             \
            ::phyllome::fuzz::fail(__FILE__ ":" FUZZ_STRINGIFY(__LINE__) ": check failed: " #condition); \
    } while (0)
#define FUZZ_STRINGIFY(x) FUZZ_STRINGIFY2(x)
#define FUZZ_STRINGIFY2(x) #x
