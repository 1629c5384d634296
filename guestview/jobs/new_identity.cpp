#include "guestview/jobs/new_identity.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <set>

#include "guestview/libvirt_handles.hpp"

namespace phyllome::guestview {
namespace {

// Hue `degrees` at the saturation and value of the shell's own colours: readable on dark.
std::uint32_t colour_at(double degrees) {
    const double hue = degrees / 60.0, s = 0.55, v = 0.85;
    const double c = v * s, x = c * (1 - std::fabs(std::fmod(hue, 2.0) - 1)), m = v - c;
    std::array<double, 3> rgb{};
    switch (static_cast<int>(hue)) {
    case 0: rgb = {c, x, 0}; break;
    case 1: rgb = {x, c, 0}; break;
    case 2: rgb = {0, c, x}; break;
    case 3: rgb = {0, x, c}; break;
    case 4: rgb = {x, 0, c}; break;
    default: rgb = {c, 0, x}; break;
    }
    auto byte = [&](double value) { return static_cast<std::uint32_t>(std::lround((value + m) * 255)); };
    return (byte(rgb[0]) << 16) | (byte(rgb[1]) << 8) | byte(rgb[2]);
}

double distance(std::uint32_t a, std::uint32_t b) {
    double sum = 0;
    for (int shift : {16, 8, 0}) {
        const double d = static_cast<double>((a >> shift) & 0xff) - static_cast<double>((b >> shift) & 0xff);
        sum += d * d;
    }
    return std::sqrt(sum);
}

} // namespace

GuestIdentity new_identity(const std::vector<GuestIdentity>& others) {
    std::set<int> taken;
    std::size_t unslotted = 0;
    for (const GuestIdentity& other : others)
        if (other.slot)
            taken.insert(*other.slot);
        else
            ++unslotted;
    int slot = min_slot;
    // Guests without a slot hold the lowest free numbers; the new one comes after them.
    for (std::size_t skipped = 0;; ++slot) {
        if (taken.contains(slot))
            continue;
        if (skipped == unslotted)
            break;
        ++skipped;
    }
    GuestIdentity identity;
    if (slot <= max_slot)
        identity.slot = slot; // else none: the shell numbers it after the others

    constexpr int hues = 24;
    double best_distance = -1;
    for (int i = 0; i < hues; ++i) {
        const std::uint32_t candidate = colour_at(360.0 * i / hues);
        double nearest = std::numeric_limits<double>::max();
        for (const GuestIdentity& other : others)
            if (other.colour)
                nearest = std::min(nearest, distance(candidate, *other.colour));
        if (nearest > best_distance) {
            best_distance = nearest;
            identity.colour = candidate;
        }
    }
    return identity;
}

std::vector<GuestIdentity> identities_of_all_guests(virConnectPtr connection) {
    std::vector<GuestIdentity> identities;
    virDomainPtr* domains = nullptr;
    const int count = virConnectListAllDomains(connection, &domains, 0);
    if (count < 0) {
        virResetLastError();
        return identities;
    }
    for (int i = 0; i < count; ++i) {
        DomainPtr domain{domains[i]};
        if (LibvirtString xml{virDomainGetXMLDesc(domain.get(), VIR_DOMAIN_XML_INACTIVE)})
            identities.push_back(identity_from_domain_xml(xml.get(), virDomainGetName(domain.get())));
        else
            virResetLastError();
    }
    std::free(domains);
    return identities;
}

} // namespace phyllome::guestview
