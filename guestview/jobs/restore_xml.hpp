// A backed-up domain XML made fit for this host: its name and uuid, its disks at their restored
// paths (and formats: a running guest's backup is qcow2 whatever the disk was), its NVRAM where
// libvirt keeps NVRAM here, its TPM state in libvirt's default place. The machine model stays.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace phyllome::guestview {

struct RestoredDisk {
    std::string path;
    std::string format;
};

struct RestoredPlaces {
    std::string name, uuid;
    std::map<std::string, RestoredDisk> disks; // by target dev
    std::string nvram;                         // empty: the definition has none
    // The firmware the definition names is not on this host (another distribution's path): with
    // <os firmware='efi'> its path and NVRAM template go, and libvirt picks this host's firmware
    // with the same features (the NVRAM's variables stay).
    bool reselect_firmware = false;
    // CD-ROMs and floppies (by target dev) whose image is not on this host: their drive is empty.
    std::vector<std::string> eject;
};

// Empty with `error` set when `xml` is no domain or names a file disk `places` lacks.
std::string restored_domain_xml(std::string_view xml, const RestoredPlaces& places, std::string& error);

} // namespace phyllome::guestview
