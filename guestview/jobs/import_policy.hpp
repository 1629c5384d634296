// An imported archive comes from elsewhere: its domain XML must not reach this host's files or
// devices beyond the guest's own copies. What is refused, and how the rest is confined.
#pragma once

#include <string>
#include <string_view>

namespace phyllome::guestview {

// Why a domain from an archive is refused here, or empty: QEMU command-line passthrough
// (<qemu:commandline>, <qemu:override>), host devices (<hostdev>, <smartcard> and <redirdev> of a
// host, <filesystem> shares), and disks that are not files (block devices, folders, network).
std::string foreign_domain_problem(std::string_view domain_xml);

// The same domain with nothing left that names a host path of the archive's choosing: CD-ROM and
// floppy images are taken out (empty drives), and character devices that write a file (serial,
// console, channel, parallel; their <log>) write `log_dir`/<name>-<n>.log instead. Empty on a
// document that cannot be read.
std::string confined_domain_xml(std::string_view domain_xml, const std::string& log_dir, const std::string& name);

} // namespace phyllome::guestview
