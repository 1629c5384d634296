// The XML side of guest snapshots (guest_snapshots.cpp): which of a guest's disks a snapshot
// covers, the <domainsnapshot> request that names every file it makes, and what a snapshot's
// description says (name, time, state).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "guestview/jobs/guest_snapshots.hpp"

namespace phyllome::guestview {

struct SnapshotDisk {
    std::string target;         // "vda"
    std::string source;         // its file (or block device); empty for an empty drive
    std::string encryption_xml; // its <encryption> element, which the overlay gets too
    bool covered = false;       // a writable hard disk: the snapshot freezes it
    std::string problem;        // why a disk the snapshot should cover cannot be (network, transient)
    std::string overlay;        // covered: the file the guest writes to from then on
};

// The guest's disks from its domain XML; empty with `error` set when the XML does not parse.
std::vector<SnapshotDisk> snapshot_disks(std::string_view domain_xml, std::string* error);

// A file name part from a snapshot name: letters, digits, '.', '_' and '-'; others become '-'.
std::string file_tag(std::string_view snapshot_name);

// The request for virDomainSnapshotCreateXML: external overlays for the covered disks (their
// `overlay` set), the memory in `memory_file` (empty: disks only, for a shut-off guest).
std::string snapshot_request_xml(const std::string& name, const std::string& memory_file,
                                 const std::vector<SnapshotDisk>& disks);

// The devices that keep QEMU 10.0 from saving a running guest's memory ("The vdagent chardev
// doesn't yet support migration"): its qemu-vdagent channels, as XML for virDomainDetachDevice
// and virDomainAttachDevice (their alias left out: libvirt gives a new one).
std::vector<std::string> memory_blocking_devices(std::string_view domain_xml);

// The files a snapshot's description names: its memory image, the overlays it started and the
// hard disks of the guest as it was (the layers below).
std::vector<std::string> snapshot_file_paths(std::string_view snapshot_xml);

// Name, creation time, state and description from virDomainSnapshotGetXMLDesc; false when the
// XML does not parse.
bool parse_snapshot_info(std::string_view snapshot_xml, SnapshotInfo& info);

} // namespace phyllome::guestview
