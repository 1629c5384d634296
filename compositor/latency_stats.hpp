// Recent latencies (frame received -> output commit that shows it), for status and benchmarks.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

namespace phyllome::compositor {

class LatencyStats {
public:
    void add(double ms);
    // Over the most recent samples (up to capacity); nullopt when empty.
    std::optional<double> percentile(double p) const;
    std::uint64_t count() const { return total_; }

    static constexpr std::size_t capacity = 1024;

private:
    std::array<double, capacity> samples_{};
    std::uint64_t total_ = 0;
};

double monotonic_ms();

} // namespace phyllome::compositor
