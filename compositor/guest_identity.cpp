#include "compositor/guest_identity.hpp"

#include <algorithm>
#include <cmath>
#include <set>

namespace phyllome::compositor {

std::uint32_t colour_from_name(std::string_view name) {
    std::uint32_t h = 2166136261u; // FNV-1a: stable, unlike std::hash
    for (unsigned char c : name) {
        h ^= c;
        h *= 16777619u;
    }
    // A hue from the hash at fixed saturation and value: distinct, readable on dark backgrounds.
    const double hue = (h % 360) / 60.0, s = 0.55, v = 0.85;
    const double c = v * s, x = c * (1 - std::fabs(std::fmod(hue, 2.0) - 1)), m = v - c;
    double r = 0, g = 0, b = 0;
    switch (static_cast<int>(hue)) {
    case 0: r = c, g = x; break;
    case 1: r = x, g = c; break;
    case 2: g = c, b = x; break;
    case 3: g = x, b = c; break;
    case 4: r = x, b = c; break;
    default: r = c, b = x; break;
    }
    auto byte = [&](double v) { return static_cast<std::uint32_t>(std::lround((v + m) * 255)); };
    return (byte(r) << 16) | (byte(g) << 8) | byte(b);
}

std::uint32_t guest_colour(const guestview::GuestInfo& guest) {
    return guest.colour ? *guest.colour : colour_from_name(guest.name);
}

std::vector<NumberedGuest> number_guests(const std::vector<guestview::GuestInfo>& guests) {
    std::vector<NumberedGuest> out;
    std::set<int> taken;
    for (const auto& g : guests)
        if (g.slot && taken.insert(*g.slot).second)
            out.push_back({*g.slot, g.name});
    int next = 1;
    for (const auto& g : guests) {
        if (std::any_of(out.begin(), out.end(), [&](const NumberedGuest& n) { return n.name == g.name; }))
            continue;
        while (taken.count(next))
            ++next;
        taken.insert(next);
        out.push_back({next, g.name});
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.number < b.number; });
    return out;
}

} // namespace phyllome::compositor
