// Shared by the tests that run a real guest in the embedded libvirt: actions through the
// Inventory's worker, and removing a guest left by an interrupted run.
#pragma once

#include <chrono>
#include <cstdlib>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <libvirt/libvirt.h>
#include <unistd.h>

#include "guestview/inventory.hpp"
#include "guestview/libvirt_handles.hpp"
#include "tests/guestview/test_support.hpp"

namespace phyllome::guestview {

// The embedded driver locks its root: PHYLLOME_TEST_EMBED_ROOT keeps parallel runs apart.
inline std::string test_embed_root() {
    if (const char* root = std::getenv("PHYLLOME_TEST_EMBED_ROOT"); root != nullptr && *root != '\0')
        return root;
    return "/var/tmp/phyllome-test-embed-" + std::to_string(getuid());
}

// A guest small enough for TCG: 1 CPU, 512 MB, a 1 GB disk in `disk_dir`.
inline GuestSpec small_tcg_spec(const std::string& name, const std::string& iso, const std::string& disk_dir) {
    GuestSpec spec;
    spec.name = name;
    spec.iso_path = iso;
    spec.disk_size_gb = 1;
    spec.memory_mb = 512;
    spec.cpus = 1;
    spec.disk_dir = disk_dir;
    spec.allow_kvm = false;
    return spec;
}

// Through the worker: an action that talks to QEMU must not block the loop.
inline ActionResult run_action(wl_event_loop* loop, Inventory& inventory, std::vector<ActionResult>& results,
                               Action action, const std::string& guest, std::chrono::milliseconds timeout) {
    const std::size_t before = results.size();
    inventory.request(action, guest);
    if (!testing::pump_until(loop, [&] { return results.size() > before; }, timeout))
        return {action, guest, false, "timed out"};
    return results.back();
}

// Forces the guest off if it runs and undefines it with its NVRAM.
inline void remove_guest(wl_event_loop* loop, Inventory& inventory, std::vector<ActionResult>& results,
                         const std::string& guest) {
    const GuestInfo* info = inventory.find(guest);
    if (info == nullptr)
        return;
    if (info->state != GuestState::ShutOff)
        run_action(loop, inventory, results, Action::ForceOff, guest, std::chrono::seconds(30));
    // Undefining talks to no QEMU.
    if (DomainPtr domain{virDomainLookupByName(inventory.connection(), guest.c_str())})
        if (virDomainUndefineFlags(domain.get(), VIR_DOMAIN_UNDEFINE_NVRAM) < 0)
            ADD_FAILURE() << "cannot undefine: " << last_libvirt_error();
    testing::pump_until(loop, [&] { return inventory.find(guest) == nullptr; }, std::chrono::seconds(5));
}

} // namespace phyllome::guestview
