// Snapshots of a guest (issue 17): list, take, revert, delete. A running guest's snapshot keeps
// its memory (reverting brings it back running); a shut-off guest's holds its disks. Why they
// are libvirt's external snapshots, and what they do not hold (the NVRAM), is at the top of the
// .cpp. The three operations are blocking job functions (guest_job.hpp); listing is quick.
#pragma once

#include <cstdint>
#include <ctime>
#include <string>
#include <vector>

#include "guestview/jobs/guest_job.hpp"

typedef struct _virConnect* virConnectPtr;

namespace phyllome::guestview {

struct SnapshotInfo {
    std::string name;
    std::int64_t created = 0; // unix seconds
    std::string state;        // "running" (with memory), "paused" (with memory) or "shut off"
    bool current = false;     // the one the guest's disks now grow from
    std::string description;
    std::string parent;       // the snapshot it builds on; empty for the first
};

// Newest first (within a second, a snapshot before the one it builds on); empty with `error` set when libvirt cannot list them.
std::vector<SnapshotInfo> list_snapshots(virDomainPtr domain, std::string* error = nullptr);

// Every file the guest's snapshots hold (memory images, disk layers below the current ones,
// overlays of other branches), sorted, without duplicates: what removing the guest must delete
// besides its current disks. Empty with `error` set when libvirt cannot list them.
std::vector<std::string> snapshot_files(virDomainPtr domain, std::string* error = nullptr);

// The name a snapshot gets when the user gives none: the local date and time, "2026-12-05 14:03".
std::string default_snapshot_name(std::time_t now);
// Empty when `name` may name a snapshot, else why not.
std::string snapshot_name_problem(const std::string& name);

// `name` empty: default_snapshot_name (with " (2)", " (3)", ... when that is taken).
JobOutcome take_snapshot(virConnectPtr connection, const std::string& guest, const std::string& name, JobContext& job);
JobOutcome revert_snapshot(virConnectPtr connection, const std::string& guest, const std::string& name,
                           JobContext& job);
// Merges the snapshot's changes into what came before it: later snapshots and the guest's
// current state keep every byte.
JobOutcome delete_snapshot(virConnectPtr connection, const std::string& guest, const std::string& name,
                           JobContext& job);

} // namespace phyllome::guestview
