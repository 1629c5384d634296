// A plan as the agent sends it for a Windows 11 installer, for the new-guest card's tests.
#pragma once

#include "guestview/guest_inventory.hpp"

namespace phyllome::compositor::testing {

inline guestview::PlanView windows11_plan() {
    guestview::PlanView plan;
    plan.os_name = "Microsoft Windows 11";
    plan.os_id = "win11";
    plan.memory_mb = 4096;
    plan.cpus = 2;
    plan.disk_gb = 64;
    plan.min_memory_mb = 4096;
    plan.min_disk_gb = 64;
    plan.free_disk_gb = 100;
    plan.features = {"UEFI with Secure Boot", "TPM 2.0", "encrypted disk"};
    return plan;
}

} // namespace phyllome::compositor::testing
