#include "compositor/rate_limiter.hpp"

#include <algorithm>

namespace phyllome::compositor {

TokenBucket::TokenBucket(double rate_per_second, double burst, Clock::time_point now)
    : rate_(std::max(0.0, rate_per_second)), burst_(std::max(1.0, burst)), tokens_(burst_), last_(now) {}

double TokenBucket::tokens(Clock::time_point now) const {
    // A clock that goes backwards (it should not) adds nothing.
    const double elapsed = std::max(0.0, std::chrono::duration<double>(now - last_).count());
    return std::min(burst_, tokens_ + elapsed * rate_);
}

bool TokenBucket::take(Clock::time_point now) {
    tokens_ = tokens(now);
    last_ = std::max(last_, now);
    if (tokens_ < 1.0)
        return false;
    tokens_ -= 1.0;
    return true;
}

} // namespace phyllome::compositor
