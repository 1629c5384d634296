// Ejecting a guest's installer ISO and counting the installer's restarts, with libvirt. Every
// function here blocks on libvirt (and QEMU): call them on the worker thread, never the loop.
#pragma once

#include <string>
#include <string_view>

#include <libvirt/libvirt.h>

namespace phyllome::guestview {

struct EjectOutcome {
    bool ok = false;
    std::string message; // the error when !ok, else what was ejected
};

// Empties the CD-ROM named by the guest's <installer> element (without one: every CD-ROM that
// holds media) in the running guest and its persistent config, and removes the element. Fails
// with "no installer to eject" when no CD-ROM holds media.
EjectOutcome eject_installer(virDomainPtr domain, std::string_view guest);

// One restart of the installer: rewrites the element's reboots to what is left, or at the last
// one ejects it. Does nothing for a guest without the element or without a valid count.
// `counted` is how many this process counted for the guest, for the log.
void count_installer_restart(virDomainPtr domain, std::string_view guest, int counted);

} // namespace phyllome::guestview
