// Owning handles for libvirt objects, so every reference is released exactly once.
#pragma once

#include <cstdlib>
#include <memory>
#include <string>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

namespace phyllome::guestview {

struct ConnectionCloser {
    void operator()(virConnectPtr connection) const { virConnectClose(connection); }
};
// One reference to a connection; virConnectClose drops it, the last one closes it.
using ConnectionPtr = std::unique_ptr<virConnect, ConnectionCloser>;

struct DomainFreer {
    void operator()(virDomainPtr domain) const { virDomainFree(domain); }
};
using DomainPtr = std::unique_ptr<virDomain, DomainFreer>;

struct SecretFreer {
    void operator()(virSecretPtr secret) const { virSecretFree(secret); }
};
using SecretPtr = std::unique_ptr<virSecret, SecretFreer>;

struct MallocFreer {
    void operator()(void* memory) const { std::free(memory); }
};
// A string libvirt allocated for us (e.g. virDomainGetXMLDesc).
using LibvirtString = std::unique_ptr<char, MallocFreer>;

// A second reference to an open connection, for a thread that must outlive a reconnect.
inline ConnectionPtr share_connection(virConnectPtr connection) {
    if (connection == nullptr || virConnectRef(connection) < 0)
        return nullptr;
    return ConnectionPtr{connection};
}

// libvirt's message for the last failure on this thread, never empty.
inline std::string last_libvirt_error() {
    const char* message = virGetLastErrorMessage();
    return message != nullptr && *message != '\0' ? message : "unknown libvirt error";
}

// Where a change to the domain's metadata goes: the running guest too (else it would show only
// after its next start), and no config for a transient guest, which has none.
inline unsigned metadata_flags(virDomainPtr domain) {
    unsigned flags = 0;
    if (virDomainIsPersistent(domain) != 0)
        flags |= VIR_DOMAIN_AFFECT_CONFIG;
    if (virDomainIsActive(domain) == 1)
        flags |= VIR_DOMAIN_AFFECT_LIVE;
    return flags;
}

} // namespace phyllome::guestview
