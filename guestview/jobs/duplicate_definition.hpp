// What a duplicate of a guest is, from the original's inactive domain XML: the files it takes
// copies of (file disks, NVRAM, TPM state) and the new definition that points at those copies.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "guestview/jobs/guest_files.hpp"

namespace phyllome::guestview {

struct OriginalGuest {
    GuestFiles files;                // its file disks (device='disk' only: CD-ROMs stay shared), NVRAM, TPM
    std::vector<std::string> copies; // where files.disks[i] is copied: disk_dir/<new>.ext, disk_dir/<new>-2.ext, ...
    std::string error;               // the XML could not be read
};

// Reads the original's definition. The copies' paths keep each file's extension (.qcow2 when it
// has none).
OriginalGuest read_original(std::string_view original_xml, const std::string& new_name, const std::string& disk_dir);

// The duplicate's definition: `new_name`, no <uuid> and no MAC addresses (libvirt makes new
// ones), each disk at its copy with `new_secret_uuids[i]` (empty: unencrypted) in place of the
// original's secret, an NVRAM without a path (libvirt names one for the new guest), no explicit
// TPM state path, a serial log file named after the guest renamed after the new one, and
// without the shell's identity element (set afterwards). Empty on error.
std::string duplicate_xml(std::string_view original_xml, const std::string& new_name, const OriginalGuest& original,
                          const std::vector<std::string>& new_secret_uuids, std::string& error);

} // namespace phyllome::guestview
