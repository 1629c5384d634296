#include "compositor/latency_stats.hpp"

#include <time.h>

#include <algorithm>
#include <vector>

namespace phyllome::compositor {

void LatencyStats::add(double ms) { samples_[total_++ % capacity] = ms; }

std::optional<double> LatencyStats::percentile(double p) const {
    const std::size_t n = std::min<std::uint64_t>(total_, capacity);
    if (n == 0)
        return std::nullopt;
    std::vector<double> sorted(samples_.begin(), samples_.begin() + static_cast<long>(n));
    const auto k = static_cast<std::size_t>(std::min<double>(n - 1, p / 100.0 * static_cast<double>(n)));
    std::nth_element(sorted.begin(), sorted.begin() + static_cast<long>(k), sorted.end());
    return sorted[k];
}

double monotonic_ms() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

} // namespace phyllome::compositor
