// Which operation runs a job of each kind, with what this host supplies (where new disks go).
#pragma once

#include <string>

#include "guestview/guest_inventory.hpp"

typedef struct _virConnect* virConnectPtr;

namespace phyllome::guestview {

// Blocking: a job thread only. `disk_dir` is where new guests' disks go (default_disk_dir).
JobOutcome run_job_operation(virConnectPtr connection, const JobRequest& request, const std::string& disk_dir,
                             JobContext& job);

// Why `request` cannot start, checked on the loop before a thread is spent on it (a missing
// name, a relative path), or empty.
std::string job_request_problem(const JobRequest& request);

} // namespace phyllome::guestview
