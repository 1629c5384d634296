// The installer a new guest boots from, recorded in its domain's <metadata> so the shell can
// eject it once the OS runs from its disk, and a reboot does not land in setup again:
//   <installer xmlns="https://phyllo.me/xmlns/shell/installer/1.0" reboots="2" target="sda"/>
// `reboots` is how many restarts the OS's installer makes before it runs from its disk
// (libosinfo's installer-reboots, as GNOME Boxes uses it); each one counted rewrites it to what
// is left, so the count survives an agent restart. `target` is the CD-ROM holding the ISO.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace phyllome::guestview {

inline constexpr std::string_view installer_namespace = "https://phyllo.me/xmlns/shell/installer/1.0";
// The prefix virDomainSetMetadata writes the element with.
inline constexpr const char* installer_metadata_key = "installer";
inline constexpr int max_installer_reboots = 99;

struct InstallerMedia {
    // Restarts left before the eject, 1..max_installer_reboots; unset when missing or invalid,
    // which leaves only a manual eject.
    std::optional<int> reboots;
    std::string target; // the CD-ROM's target dev, e.g. "sda"; empty when missing or invalid
    bool operator==(const InstallerMedia&) const = default;
};

// The element for a new guest's domain XML, with its namespace declared.
std::string installer_element(int reboots, std::string_view target);

// The same without the namespace, for virDomainSetMetadata (which adds it from its key and uri).
std::string installer_metadata_element(int reboots, std::string_view target);

// Reads /domain/metadata/installer in installer_namespace (any prefix) from a whole domain XML;
// nullopt when there is none. Bad attributes are left unset and logged at debug, naming `guest`.
std::optional<InstallerMedia> installer_from_domain_xml(std::string_view xml, std::string_view guest);

struct CdromMedia {
    std::string target; // e.g. "sda"
    std::string source; // the file (or volume, device) it holds
    bool operator==(const CdromMedia&) const = default;
};

// The domain's CD-ROMs that hold media (a <source> with a file, volume or device).
std::vector<CdromMedia> cdroms_with_media(std::string_view xml);

// The CD-ROM `target` of the domain XML with its <source> removed, everything else kept (bus,
// address, alias), for virDomainUpdateDeviceFlags; nullopt when the domain has no such CD-ROM.
std::optional<std::string> emptied_cdrom_xml(std::string_view xml, std::string_view target);

// Whether QEMU's RESET event, by its JSON details ({"guest": true, "reason": "guest-reset"}),
// was the guest's own doing rather than the host's (system_reset: virDomainReset, or the reset
// libvirt's virDomainReboot makes after an ACPI shutdown).
bool reset_by_guest(std::string_view qemu_details);

} // namespace phyllome::guestview
