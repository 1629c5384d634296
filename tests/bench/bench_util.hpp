// Small helpers the benchmark's phases share.
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include <fmt/format.h>

namespace phyllome::bench {

inline double ms_between(std::chrono::steady_clock::time_point a, std::chrono::steady_clock::time_point b) { return std::chrono::duration<double, std::milli>(b - a).count(); }

inline std::optional<std::string> shown_guest(const std::string& json) {
    std::smatch m;
    static const std::regex re(R"re(^\{"view": "[a-z]+", "guest": "([^"]*)")re");
    if (!std::regex_search(json, m, re))
        return std::nullopt;
    return m[1].str();
}

inline double percentile(std::vector<double> v, double p) {
    if (v.empty())
        return NAN;
    std::sort(v.begin(), v.end());
    const auto i = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(v.size()))) - (p > 0 ? 1 : 0);
    return v[std::min(i, v.size() - 1)];
}

inline std::string output_config(int w, int h) { return fmt::format("[output.HEADLESS-1]\nmode = \"{}x{}\"\n", w, h); }

} // namespace phyllome::bench
