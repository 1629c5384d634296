// phyllomectl's long jobs: duplicate, snapshot, backup, restore, export, import, move, jobs and
// cancel. A job is started, then followed: a progress line on a terminal (or a line per change
// elsewhere; JSON lines with --json) until it ends; Ctrl+C cancels it; --detach only starts it.
#pragma once

#include <optional>

namespace phyllome::compositor::ctl {

// The exit status when argv[1] is one of the job verbs (0 done, 1 failed, 2 bad usage, 130
// cancelled by Ctrl+C), nullopt when it is not.
std::optional<int> run_job_command(int argc, char** argv);

// The usage lines of the job verbs.
const char* job_usage();

} // namespace phyllome::compositor::ctl
