// Switch: hotkey-equivalent `phyllomectl next` between two streaming guests; the shell's own
// last_switch_ms (show_guest -> first output commit carrying the new guest's frame). Keys get
// `suffix` (e.g. "_loaded" for the run with every core busy).
#pragma once

#include <string>

#include "bench_report.hpp"

namespace phyllome::bench {

void switching(Results& r, const std::string& suffix);

} // namespace phyllome::bench
