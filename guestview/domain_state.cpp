#include "guestview/domain_state.hpp"

#include <libvirt/libvirt.h>

namespace phyllome::guestview {

std::string_view to_string(GuestState state) {
    switch (state) {
    case GuestState::Running: return "running";
    case GuestState::Paused: return "paused";
    case GuestState::ShutOff: return "shut off";
    case GuestState::Crashed: return "crashed";
    case GuestState::ShuttingDown: return "shutting down";
    case GuestState::Suspended: return "suspended";
    case GuestState::Unknown: return "unknown";
    }
    return "unknown";
}

std::string_view to_string(Action action) {
    switch (action) {
    case Action::Start: return "start";
    case Action::Shutdown: return "shut down";
    case Action::ForceOff: return "force off";
    case Action::Remove: return "remove";
    case Action::Eject: return "eject the installer";
    }
    return "?";
}

GuestState guest_state_from_libvirt(int state) {
    switch (state) {
    case VIR_DOMAIN_RUNNING:
    case VIR_DOMAIN_BLOCKED: return GuestState::Running; // blocked on I/O is still running
    case VIR_DOMAIN_PAUSED: return GuestState::Paused;
    case VIR_DOMAIN_SHUTDOWN: return GuestState::ShuttingDown;
    case VIR_DOMAIN_SHUTOFF: return GuestState::ShutOff;
    case VIR_DOMAIN_CRASHED: return GuestState::Crashed;
    case VIR_DOMAIN_PMSUSPENDED: return GuestState::Suspended;
    default: return GuestState::Unknown;
    }
}

namespace {

const char* running_reason(int reason) {
    switch (reason) {
    case VIR_DOMAIN_RUNNING_BOOTED: return "booted";
    case VIR_DOMAIN_RUNNING_MIGRATED: return "migrated";
    case VIR_DOMAIN_RUNNING_RESTORED: return "restored";
    case VIR_DOMAIN_RUNNING_FROM_SNAPSHOT: return "from snapshot";
    case VIR_DOMAIN_RUNNING_UNPAUSED: return "unpaused";
    case VIR_DOMAIN_RUNNING_MIGRATION_CANCELED: return "migration canceled";
    case VIR_DOMAIN_RUNNING_SAVE_CANCELED: return "save canceled";
    case VIR_DOMAIN_RUNNING_WAKEUP: return "woken up";
    case VIR_DOMAIN_RUNNING_CRASHED: return "crashed";
    case VIR_DOMAIN_RUNNING_POSTCOPY: return "post-copy migration";
    case VIR_DOMAIN_RUNNING_POSTCOPY_FAILED: return "post-copy migration failed";
    default: return nullptr;
    }
}

const char* paused_reason(int reason) {
    switch (reason) {
    case VIR_DOMAIN_PAUSED_USER: return "user";
    case VIR_DOMAIN_PAUSED_MIGRATION: return "migration";
    case VIR_DOMAIN_PAUSED_SAVE: return "save";
    case VIR_DOMAIN_PAUSED_DUMP: return "dump";
    case VIR_DOMAIN_PAUSED_IOERROR: return "I/O error";
    case VIR_DOMAIN_PAUSED_WATCHDOG: return "watchdog";
    case VIR_DOMAIN_PAUSED_FROM_SNAPSHOT: return "from snapshot";
    case VIR_DOMAIN_PAUSED_SHUTTING_DOWN: return "shutting down";
    case VIR_DOMAIN_PAUSED_SNAPSHOT: return "snapshot";
    case VIR_DOMAIN_PAUSED_CRASHED: return "crashed";
    case VIR_DOMAIN_PAUSED_STARTING_UP: return "starting up";
    case VIR_DOMAIN_PAUSED_POSTCOPY: return "post-copy migration";
    case VIR_DOMAIN_PAUSED_POSTCOPY_FAILED: return "post-copy migration failed";
    default: return nullptr;
    }
}

const char* shutoff_reason(int reason) {
    switch (reason) {
    case VIR_DOMAIN_SHUTOFF_SHUTDOWN: return "shutdown";
    case VIR_DOMAIN_SHUTOFF_DESTROYED: return "destroyed";
    case VIR_DOMAIN_SHUTOFF_CRASHED: return "crashed";
    case VIR_DOMAIN_SHUTOFF_MIGRATED: return "migrated";
    case VIR_DOMAIN_SHUTOFF_SAVED: return "saved";
    case VIR_DOMAIN_SHUTOFF_FAILED: return "failed to start";
    case VIR_DOMAIN_SHUTOFF_FROM_SNAPSHOT: return "from snapshot";
    case VIR_DOMAIN_SHUTOFF_DAEMON: return "killed by libvirt";
    default: return nullptr;
    }
}

const char* reason_text(int state, int reason) {
    switch (state) {
    case VIR_DOMAIN_RUNNING: return running_reason(reason);
    case VIR_DOMAIN_PAUSED: return paused_reason(reason);
    case VIR_DOMAIN_SHUTDOWN: return reason == VIR_DOMAIN_SHUTDOWN_USER ? "user" : nullptr;
    case VIR_DOMAIN_SHUTOFF: return shutoff_reason(reason);
    case VIR_DOMAIN_CRASHED: return reason == VIR_DOMAIN_CRASHED_PANICKED ? "panicked" : nullptr;
    case VIR_DOMAIN_BLOCKED: return "blocked";
    default: return nullptr;
    }
}

} // namespace

std::string describe_state(int state, int reason) {
    std::string text{to_string(guest_state_from_libvirt(state))};
    if (const char* why = reason_text(state, reason)) {
        text += ": ";
        text += why;
    }
    return text;
}

} // namespace phyllome::guestview
