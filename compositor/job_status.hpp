// How jobs (guest_inventory.hpp's JobInfo) are written for people and programs: the JSON in
// status and `jobs --json`, the progress line phyllomectl and the overlay show, and the compact
// form phyllomectl follows a job by.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "guestview/guest_inventory.hpp"

namespace phyllome::compositor {

// {"id": 3, "kind": "duplicate", "guest": ..., "target": ..., "state": "running", "done": ...,
//  "total": ..., "percent": 41.5 | null, "seconds_left": 12 | null, "phase": ..., "message": ...,
//  "elapsed_ms": ...}
std::string job_json(const guestview::JobInfo& job);
std::string jobs_json(const std::vector<guestview::JobInfo>& jobs);
// "duplicate win11 as win11-copy"
std::string job_title(const guestview::JobInfo& job);
// "41% · 2.1 of 5.0 GiB · 12 s left · copying disk vda", or how it ended.
std::string job_progress_text(const guestview::JobInfo& job);
// "1.5 GiB", "300 MiB", "12 KiB"
std::string byte_size_text(std::uint64_t bytes);

// The `job ID` reply body: "ID STATE DONE TOTAL ELAPSED_MS\nPHASE\nMESSAGE\n", values without
// newlines; parse_job_line reads it back (nullopt when malformed).
std::string job_line(const guestview::JobInfo& job);
std::optional<guestview::JobInfo> parse_job_line(std::string_view body);

} // namespace phyllome::compositor
