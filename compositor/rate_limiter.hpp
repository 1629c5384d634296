// A token bucket: `rate` requests a second on average, bursts of up to `burst`. The control
// socket answers "busy" beyond it, so a runaway client cannot make the shell do unbounded work.
#pragma once

#include <chrono>

namespace phyllome::compositor {

class TokenBucket {
public:
    using Clock = std::chrono::steady_clock;

    TokenBucket(double rate_per_second, double burst, Clock::time_point now);

    // Takes one token if there is one; false: over the rate, do not do the work.
    bool take(Clock::time_point now);
    double tokens(Clock::time_point now) const;

private:
    double rate_;
    double burst_;
    double tokens_;
    Clock::time_point last_;
};

} // namespace phyllome::compositor
