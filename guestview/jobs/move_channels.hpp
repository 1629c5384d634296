// Devices of a running guest that QEMU cannot migrate yet, taken out for a move and put back
// after. QEMU 10.0 refuses to migrate the qemu-vdagent channel (libvirt 11.3: "The vdagent
// chardev doesn't yet support migration"), and every guest of the shell's machine model has one
// (the clipboard). It is unplugged from the running guest only (its definition keeps it), and
// plugged in again wherever the guest runs afterwards: the guest's agent finds its port again.
#pragma once

#include <string>
#include <vector>

typedef struct _virDomain* virDomainPtr;

namespace phyllome::guestview {

// The <channel type='qemu-vdagent'> elements of a guest's live XML, each as device XML.
std::vector<std::string> unmigratable_channels(const char* domain_xml);

// Unplugs `channels` from the running guest; empty, or the error (those already out are
// plugged in again).
std::string unplug_channels(virDomainPtr domain, const std::vector<std::string>& channels);

// Plugs them into the running guest again; empty, or what failed (the guest runs on without).
std::string plug_channels(virDomainPtr domain, const std::vector<std::string>& channels);

} // namespace phyllome::guestview
