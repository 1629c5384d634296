#include "guestview/installer_eject.hpp"

#include <algorithm>
#include <tuple>
#include <vector>

#include <fmt/format.h>

#include "config/log.hpp"
#include "guestview/installer_media.hpp"
#include "guestview/libvirt_handles.hpp"

namespace phyllome::guestview {
namespace {

// The guest's running and persistent definitions; each empty where it has none.
struct Definitions {
    bool active = false;
    bool persistent = false;
    std::string live, config;

    // Where the element lives: the config outlasts the running guest.
    const std::string& main() const { return persistent ? config : live; }
    // Metadata edits go to both, so guests() (the live XML) shows them at once.
    unsigned metadata_flags() const {
        return (persistent ? unsigned{VIR_DOMAIN_AFFECT_CONFIG} : 0u) | (active ? unsigned{VIR_DOMAIN_AFFECT_LIVE} : 0u);
    }
};

std::string read_definitions(virDomainPtr domain, Definitions& out) {
    out.active = virDomainIsActive(domain) == 1;
    out.persistent = virDomainIsPersistent(domain) == 1;
    for (auto [wanted, flags, text] : {std::tuple{out.active, 0u, &out.live},
                                       std::tuple{out.persistent, unsigned{VIR_DOMAIN_XML_INACTIVE}, &out.config}}) {
        if (!wanted)
            continue;
        LibvirtString xml{virDomainGetXMLDesc(domain, flags)};
        if (!xml)
            return "cannot read its definition: " + last_libvirt_error();
        *text = xml.get();
    }
    return {};
}

bool holds_media(const std::string& xml, const std::string& target) {
    return std::ranges::any_of(cdroms_with_media(xml), [&](const CdromMedia& m) { return m.target == target; });
}

// Empties `target` in the running guest and the config, wherever it holds media; one call for
// both, as virsh change-media does. Empty, or why not.
std::string empty_cdrom(virDomainPtr domain, const Definitions& defs, const std::string& target) {
    const bool live = defs.active && holds_media(defs.live, target);
    const bool config = defs.persistent && holds_media(defs.config, target);
    if (!live && !config)
        return {};
    const std::optional<std::string> device = emptied_cdrom_xml(live ? defs.live : defs.config, target);
    if (!device)
        return fmt::format("it has no CD-ROM {}", target);
    const unsigned flags =
        (live ? unsigned{VIR_DOMAIN_AFFECT_LIVE} : 0u) | (config ? unsigned{VIR_DOMAIN_AFFECT_CONFIG} : 0u);
    if (virDomainUpdateDeviceFlags(domain, device->c_str(), flags) < 0)
        return last_libvirt_error();
    return {};
}

std::string remove_element(virDomainPtr domain, const Definitions& defs) {
    const std::string ns{installer_namespace};
    // NULL metadata removes the element.
    if (virDomainSetMetadata(domain, VIR_DOMAIN_METADATA_ELEMENT, nullptr, nullptr, ns.c_str(),
                             defs.metadata_flags()) < 0)
        return last_libvirt_error();
    return {};
}

// The running guest's media and the config's, each CD-ROM once.
std::vector<CdromMedia> all_media(const Definitions& defs) {
    std::vector<CdromMedia> media = cdroms_with_media(defs.live);
    for (CdromMedia& m : cdroms_with_media(defs.config))
        if (std::ranges::none_of(media, [&](const CdromMedia& known) { return known.target == m.target; }))
            media.push_back(std::move(m));
    return media;
}

} // namespace

EjectOutcome eject_installer(virDomainPtr domain, std::string_view guest) {
    Definitions defs;
    if (std::string error = read_definitions(domain, defs); !error.empty())
        return {false, std::move(error)};
    const std::optional<InstallerMedia> installer = installer_from_domain_xml(defs.main(), guest);
    const bool by_target = installer && !installer->target.empty();
    std::vector<CdromMedia> media = all_media(defs);
    if (by_target)
        std::erase_if(media, [&](const CdromMedia& m) { return m.target != installer->target; });
    if (media.empty()) {
        // Nothing left to eject: the element alone would keep saying "installer attached".
        if (installer)
            if (std::string error = remove_element(domain, defs); !error.empty())
                log::warn("guest '{}': cannot remove its installer metadata: {}", guest, error);
        return {false, by_target ? fmt::format("no installer to eject: its CD-ROM {} is empty", installer->target)
                                 : std::string{"no installer to eject"}};
    }
    std::string ejected;
    for (const CdromMedia& m : media) {
        if (std::string error = empty_cdrom(domain, defs, m.target); !error.empty())
            return {false, fmt::format("cannot eject {} from {}: {}", m.source, m.target, error)};
        ejected += fmt::format("{}{} from {}", ejected.empty() ? "" : ", ", m.source, m.target);
    }
    if (installer)
        if (std::string error = remove_element(domain, defs); !error.empty())
            return {false, fmt::format("ejected {}, but cannot remove its installer metadata: {}", ejected, error)};
    return {true, by_target ? "ejected " + ejected
                            : fmt::format("ejected {} (no installer CD-ROM recorded: every CD-ROM with media)",
                                          ejected)};
}

void count_installer_restart(virDomainPtr domain, std::string_view guest, int counted) {
    Definitions defs;
    if (std::string error = read_definitions(domain, defs); !error.empty()) {
        log::warn("guest '{}': cannot count the installer's restart: {}", guest, error);
        return;
    }
    const std::optional<InstallerMedia> installer = installer_from_domain_xml(defs.main(), guest);
    if (!installer || !installer->reboots)
        return; // ejected already, or only a manual eject may remove it
    if (const int left = *installer->reboots - 1; left > 0) {
        // Written back, so the count survives an agent restart.
        const std::string element = installer_metadata_element(left, installer->target);
        const std::string ns{installer_namespace};
        if (virDomainSetMetadata(domain, VIR_DOMAIN_METADATA_ELEMENT, element.c_str(), installer_metadata_key,
                                 ns.c_str(), defs.metadata_flags()) < 0)
            log::warn("guest '{}': cannot record the installer's restart: {}", guest, last_libvirt_error());
        else
            log::info("guest '{}': installer restart counted, {} more before its eject", guest, left);
        return;
    }
    const EjectOutcome outcome = eject_installer(domain, guest);
    if (outcome.ok)
        log::info("guest '{}': installer ejected after {} restart{} ({})", guest, counted, counted == 1 ? "" : "s",
                  outcome.message);
    else
        log::warn("guest '{}': cannot eject the installer after its last restart: {}", guest, outcome.message);
}

} // namespace phyllome::guestview
