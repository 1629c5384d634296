// The Linux test guest (scripts/build-bench-guest: Debian's kernel and busybox, assembled once and
// cached) for the integration tests that boot it under real QEMU.
#pragma once

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <initializer_list>
#include <string>

#include "shell_process.hpp"

namespace phyllome::test {

// Why the guest cannot boot here (QEMU, one of `programs` or the guest itself missing), or empty
// with `kernel_dir` set to the folder of its vmlinuz and initrd.gz.
inline std::string linux_test_guest_missing(std::string& kernel_dir, std::initializer_list<const char*> programs) {
    using namespace std::chrono_literals;
    if (access("/usr/bin/qemu-system-x86_64", X_OK) != 0)
        return "QEMU is not installed";
    for (const char* program : programs)
        if (!have_program(program))
            return std::string(program) + " is not installed";
    const char* src = std::getenv("PHYLLOME_SOURCE_ROOT");
    if (!src)
        return "PHYLLOME_SOURCE_ROOT is unset: run through meson test";
    const auto built = run_command({std::string(src) + "/scripts/build-bench-guest"}, {}, 900s);
    if (built.exit_code != 0)
        return "cannot assemble the test guest (Debian's kernel package is downloaded once): " +
               built.err.substr(0, 400);
    kernel_dir = built.out.substr(0, built.out.find('\n'));
    return {};
}

} // namespace phyllome::test
