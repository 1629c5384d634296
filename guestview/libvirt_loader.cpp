#include "guestview/libvirt_loader.hpp"

#include <dlfcn.h>

#include <future>
#include <mutex>
#include <type_traits>

#include <libvirt/libvirt-qemu.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

namespace phyllome::guestview {
namespace {

struct Library {
    void* handle = nullptr;
    std::string error;
};

// The one process-wide load, like libvirt's own global state: every connection shares it.
struct Loader {
    std::once_flag started;
    std::shared_future<Library> library;
};

Loader& loader() {
    static Loader instance;
    return instance;
}

const Library& library() {
    start_loading_libvirt();
    return loader().library.get();
}

void* symbol(const char* name) {
    const Library& lib = library();
    return lib.handle ? dlsym(lib.handle, name) : nullptr;
}

// libvirt-qemu (QEMU's own monitor events) is a library of its own, loaded on first use once
// libvirt is; without it its calls fail the way libvirt's do.
void* qemu_symbol(const char* name) {
    static void* const handle = library().handle ? dlopen("libvirt-qemu.so.0", RTLD_NOW | RTLD_LOCAL) : nullptr;
    return handle ? dlsym(handle, name) : nullptr;
}

// What a libvirt call returns when libvirt could not be loaded: its own error values.
template <typename R>
R unavailable() {
    if constexpr (std::is_pointer_v<R>)
        return nullptr;
    else if constexpr (std::is_void_v<R>)
        return;
    else
        return static_cast<R>(-1);
}

} // namespace

void start_loading_libvirt() {
    Loader& l = loader();
    std::call_once(l.started, [&l] {
        l.library = std::async(std::launch::async, [] {
                        Library lib;
                        lib.handle = dlopen("libvirt.so.0", RTLD_NOW | RTLD_LOCAL);
                        if (!lib.handle)
                            lib.error = dlerror();
                        return lib;
                    }).share();
    });
}

bool libvirt_loaded(std::string& error) {
    const Library& lib = library();
    error = lib.error;
    return lib.handle != nullptr;
}

} // namespace phyllome::guestview

using phyllome::guestview::qemu_symbol;
using phyllome::guestview::symbol;

using phyllome::guestview::unavailable;

// One definition per libvirt function we call, with libvirt's own signature.
#define PHYLLOME_LIBVIRT_FORWARD_FROM(lookup, ret, name, params, args)                             \
    extern "C" ret name params {                                                                   \
        using Fn = ret(*) params;                                                                  \
        static const Fn real = reinterpret_cast<Fn>(lookup(#name));                                \
        if (!real)                                                                                 \
            return unavailable<ret>();                                                             \
        return real args;                                                                          \
    }
#define PHYLLOME_LIBVIRT_FORWARD(ret, name, params, args) PHYLLOME_LIBVIRT_FORWARD_FROM(symbol, ret, name, params, args)

PHYLLOME_LIBVIRT_FORWARD(int, virInitialize, (void), ())
PHYLLOME_LIBVIRT_FORWARD(void, virResetLastError, (void), ())
PHYLLOME_LIBVIRT_FORWARD(int, virGetLastErrorCode, (void), ())
PHYLLOME_LIBVIRT_FORWARD(void, virSetErrorFunc, (void* userData, virErrorFunc handler), (userData, handler))
PHYLLOME_LIBVIRT_FORWARD(void, virEventRegisterImpl,
                         (virEventAddHandleFunc addHandle, virEventUpdateHandleFunc updateHandle,
                          virEventRemoveHandleFunc removeHandle, virEventAddTimeoutFunc addTimeout,
                          virEventUpdateTimeoutFunc updateTimeout, virEventRemoveTimeoutFunc removeTimeout),
                         (addHandle, updateHandle, removeHandle, addTimeout, updateTimeout, removeTimeout))
PHYLLOME_LIBVIRT_FORWARD(int, virEventRegisterDefaultImpl, (void), ())

PHYLLOME_LIBVIRT_FORWARD(virConnectPtr, virConnectOpen, (const char* name), (name))
PHYLLOME_LIBVIRT_FORWARD(int, virConnectClose, (virConnectPtr conn), (conn))
PHYLLOME_LIBVIRT_FORWARD(int, virConnectRef, (virConnectPtr conn), (conn))
PHYLLOME_LIBVIRT_FORWARD(int, virConnectSetKeepAlive, (virConnectPtr conn, int interval, unsigned int count),
                         (conn, interval, count))
PHYLLOME_LIBVIRT_FORWARD(int, virConnectRegisterCloseCallback,
                         (virConnectPtr conn, virConnectCloseFunc cb, void* opaque, virFreeCallback freecb),
                         (conn, cb, opaque, freecb))
PHYLLOME_LIBVIRT_FORWARD(int, virConnectUnregisterCloseCallback, (virConnectPtr conn, virConnectCloseFunc cb),
                         (conn, cb))
PHYLLOME_LIBVIRT_FORWARD(char*, virConnectGetURI, (virConnectPtr conn), (conn))
PHYLLOME_LIBVIRT_FORWARD(int, virConnectGetLibVersion, (virConnectPtr conn, unsigned long* libVer), (conn, libVer))
PHYLLOME_LIBVIRT_FORWARD(int, virConnectNumOfSecrets, (virConnectPtr conn), (conn))
PHYLLOME_LIBVIRT_FORWARD(virNetworkPtr, virNetworkLookupByName, (virConnectPtr conn, const char* name), (conn, name))
PHYLLOME_LIBVIRT_FORWARD(int, virNetworkFree, (virNetworkPtr network), (network))
PHYLLOME_LIBVIRT_FORWARD(int, virNodeGetInfo, (virConnectPtr conn, virNodeInfoPtr info), (conn, info))
PHYLLOME_LIBVIRT_FORWARD(char*, virConnectGetDomainCapabilities,
                         (virConnectPtr conn, const char* emulatorbin, const char* arch, const char* machine,
                          const char* virttype, unsigned int flags),
                         (conn, emulatorbin, arch, machine, virttype, flags))
PHYLLOME_LIBVIRT_FORWARD(int, virConnectListAllDomains, (virConnectPtr conn, virDomainPtr** domains, unsigned int flags),
                         (conn, domains, flags))
PHYLLOME_LIBVIRT_FORWARD(int, virConnectDomainEventRegisterAny,
                         (virConnectPtr conn, virDomainPtr dom, int eventID, virConnectDomainEventGenericCallback cb,
                          void* opaque, virFreeCallback freecb),
                         (conn, dom, eventID, cb, opaque, freecb))
PHYLLOME_LIBVIRT_FORWARD(int, virConnectDomainEventDeregisterAny, (virConnectPtr conn, int callbackID),
                         (conn, callbackID))

PHYLLOME_LIBVIRT_FORWARD(virDomainPtr, virDomainLookupByName, (virConnectPtr conn, const char* name), (conn, name))
PHYLLOME_LIBVIRT_FORWARD(virDomainPtr, virDomainDefineXMLFlags, (virConnectPtr conn, const char* xml, unsigned int flags),
                         (conn, xml, flags))
PHYLLOME_LIBVIRT_FORWARD(int, virDomainUndefineFlags, (virDomainPtr domain, unsigned int flags), (domain, flags))
PHYLLOME_LIBVIRT_FORWARD(int, virDomainFree, (virDomainPtr domain), (domain))
PHYLLOME_LIBVIRT_FORWARD(const char*, virDomainGetName, (virDomainPtr domain), (domain))
PHYLLOME_LIBVIRT_FORWARD(int, virDomainGetUUIDString, (virDomainPtr domain, char* buf), (domain, buf))
PHYLLOME_LIBVIRT_FORWARD(unsigned int, virDomainGetID, (virDomainPtr domain), (domain))
PHYLLOME_LIBVIRT_FORWARD(char*, virDomainGetXMLDesc, (virDomainPtr domain, unsigned int flags), (domain, flags))
PHYLLOME_LIBVIRT_FORWARD(int, virDomainGetState, (virDomainPtr domain, int* state, int* reason, unsigned int flags),
                         (domain, state, reason, flags))
PHYLLOME_LIBVIRT_FORWARD(int, virDomainIsActive, (virDomainPtr dom), (dom))
PHYLLOME_LIBVIRT_FORWARD(int, virDomainIsPersistent, (virDomainPtr dom), (dom))
PHYLLOME_LIBVIRT_FORWARD(int, virDomainCreate, (virDomainPtr domain), (domain))
PHYLLOME_LIBVIRT_FORWARD(int, virDomainShutdown, (virDomainPtr domain), (domain))
PHYLLOME_LIBVIRT_FORWARD(int, virDomainDestroy, (virDomainPtr domain), (domain))
PHYLLOME_LIBVIRT_FORWARD(int, virDomainResume, (virDomainPtr domain), (domain))
PHYLLOME_LIBVIRT_FORWARD(int, virDomainPMWakeup, (virDomainPtr domain, unsigned int flags), (domain, flags))
PHYLLOME_LIBVIRT_FORWARD(int, virDomainSetMetadata,
                         (virDomainPtr domain, int type, const char* metadata, const char* key, const char* uri,
                          unsigned int flags),
                         (domain, type, metadata, key, uri, flags))
PHYLLOME_LIBVIRT_FORWARD(int, virDomainUpdateDeviceFlags, (virDomainPtr domain, const char* xml, unsigned int flags),
                         (domain, xml, flags))
PHYLLOME_LIBVIRT_FORWARD(int, virDomainOpenGraphicsFD, (virDomainPtr dom, unsigned int idx, unsigned int flags),
                         (dom, idx, flags))
PHYLLOME_LIBVIRT_FORWARD(char*, virDomainScreenshot,
                         (virDomainPtr domain, virStreamPtr stream, unsigned int screen, unsigned int flags),
                         (domain, stream, screen, flags))

PHYLLOME_LIBVIRT_FORWARD_FROM(qemu_symbol, int, virConnectDomainQemuMonitorEventRegister,
                              (virConnectPtr conn, virDomainPtr dom, const char* event,
                               virConnectDomainQemuMonitorEventCallback cb, void* opaque, virFreeCallback freecb,
                               unsigned int flags),
                              (conn, dom, event, cb, opaque, freecb, flags))
PHYLLOME_LIBVIRT_FORWARD_FROM(qemu_symbol, int, virConnectDomainQemuMonitorEventDeregister,
                              (virConnectPtr conn, int callbackID), (conn, callbackID))

PHYLLOME_LIBVIRT_FORWARD(virStreamPtr, virStreamNew, (virConnectPtr conn, unsigned int flags), (conn, flags))
PHYLLOME_LIBVIRT_FORWARD(int, virStreamRecvAll, (virStreamPtr st, virStreamSinkFunc handler, void* opaque),
                         (st, handler, opaque))
PHYLLOME_LIBVIRT_FORWARD(int, virStreamFinish, (virStreamPtr st), (st))
PHYLLOME_LIBVIRT_FORWARD(int, virStreamAbort, (virStreamPtr st), (st))
PHYLLOME_LIBVIRT_FORWARD(int, virStreamFree, (virStreamPtr st), (st))

PHYLLOME_LIBVIRT_FORWARD(virSecretPtr, virSecretDefineXML, (virConnectPtr conn, const char* xml, unsigned int flags),
                         (conn, xml, flags))
PHYLLOME_LIBVIRT_FORWARD(int, virSecretSetValue,
                         (virSecretPtr secret, const unsigned char* value, size_t value_size, unsigned int flags),
                         (secret, value, value_size, flags))
PHYLLOME_LIBVIRT_FORWARD(virSecretPtr, virSecretLookupByUsage, (virConnectPtr conn, int usageType, const char* usageID),
                         (conn, usageType, usageID))
PHYLLOME_LIBVIRT_FORWARD(virSecretPtr, virSecretLookupByUUIDString, (virConnectPtr conn, const char* uuid),
                         (conn, uuid))
PHYLLOME_LIBVIRT_FORWARD(int, virSecretGetUUIDString, (virSecretPtr secret, char* buf), (secret, buf))
PHYLLOME_LIBVIRT_FORWARD(char*, virSecretGetXMLDesc, (virSecretPtr secret, unsigned int flags), (secret, flags))
PHYLLOME_LIBVIRT_FORWARD(int, virSecretUndefine, (virSecretPtr secret), (secret))
PHYLLOME_LIBVIRT_FORWARD(int, virSecretFree, (virSecretPtr secret), (secret))

// Moving a guest (jobs/guest_move.cpp): migration, the destination's storage and memory.
// Snapshots (guest_snapshots.cpp).
PHYLLOME_LIBVIRT_FORWARD(int, virDomainListAllSnapshots, (virDomainPtr domain, virDomainSnapshotPtr** snaps, unsigned int flags),
                         (domain, snaps, flags))
PHYLLOME_LIBVIRT_FORWARD(int, virDomainRevertToSnapshot, (virDomainSnapshotPtr snapshot, unsigned int flags),
                         (snapshot, flags))
PHYLLOME_LIBVIRT_FORWARD(virDomainSnapshotPtr, virDomainSnapshotCreateXML,
                         (virDomainPtr domain, const char* xmlDesc, unsigned int flags), (domain, xmlDesc, flags))
PHYLLOME_LIBVIRT_FORWARD(int, virDomainSnapshotDelete, (virDomainSnapshotPtr snapshot, unsigned int flags),
                         (snapshot, flags))
PHYLLOME_LIBVIRT_FORWARD(int, virDomainSnapshotFree, (virDomainSnapshotPtr snapshot), (snapshot))
PHYLLOME_LIBVIRT_FORWARD(const char*, virDomainSnapshotGetName, (virDomainSnapshotPtr snapshot), (snapshot))
PHYLLOME_LIBVIRT_FORWARD(char*, virDomainSnapshotGetXMLDesc, (virDomainSnapshotPtr snapshot, unsigned int flags),
                         (snapshot, flags))
PHYLLOME_LIBVIRT_FORWARD(int, virDomainSnapshotIsCurrent, (virDomainSnapshotPtr snapshot, unsigned int flags),
                         (snapshot, flags))
PHYLLOME_LIBVIRT_FORWARD(virDomainSnapshotPtr, virDomainSnapshotLookupByName,
                         (virDomainPtr domain, const char* name, unsigned int flags), (domain, name, flags))
PHYLLOME_LIBVIRT_FORWARD(virDomainPtr, virDomainMigrate3,
                         (virDomainPtr domain, virConnectPtr dconn, virTypedParameterPtr params, unsigned int nparams,
                          unsigned int flags),
                         (domain, dconn, params, nparams, flags))
PHYLLOME_LIBVIRT_FORWARD(int, virDomainGetInfo, (virDomainPtr domain, virDomainInfoPtr info), (domain, info))
PHYLLOME_LIBVIRT_FORWARD(char*, virConnectGetCapabilities, (virConnectPtr conn), (conn))
PHYLLOME_LIBVIRT_FORWARD(int, virDomainAttachDeviceFlags, (virDomainPtr domain, const char* xml, unsigned int flags),
                         (domain, xml, flags))
PHYLLOME_LIBVIRT_FORWARD(int, virDomainDetachDeviceFlags, (virDomainPtr domain, const char* xml, unsigned int flags),
                         (domain, xml, flags))
PHYLLOME_LIBVIRT_FORWARD(int, virDomainDetachDeviceAlias, (virDomainPtr domain, const char* alias, unsigned int flags),
                         (domain, alias, flags))
PHYLLOME_LIBVIRT_FORWARD(int, virDomainGetBlockInfo,
                         (virDomainPtr dom, const char* disk, virDomainBlockInfoPtr info, unsigned int flags),
                         (dom, disk, info, flags))
PHYLLOME_LIBVIRT_FORWARD(virDomainPtr, virDomainLookupByUUIDString, (virConnectPtr conn, const char* uuid),
                         (conn, uuid))
PHYLLOME_LIBVIRT_FORWARD(int, virNodeGetMemoryStats,
                         (virConnectPtr conn, int cellNum, virNodeMemoryStatsPtr params, int* nparams,
                          unsigned int flags),
                         (conn, cellNum, params, nparams, flags))
PHYLLOME_LIBVIRT_FORWARD(void, virTypedParamsFree, (virTypedParameterPtr params, int nparams), (params, nparams))
PHYLLOME_LIBVIRT_FORWARD(int, virTypedParamsAddString,
                         (virTypedParameterPtr * params, int* nparams, int* maxparams, const char* name,
                          const char* value),
                         (params, nparams, maxparams, name, value))
PHYLLOME_LIBVIRT_FORWARD(int, virTypedParamsAddStringList,
                         (virTypedParameterPtr * params, int* nparams, int* maxparams, const char* name,
                          const char** values),
                         (params, nparams, maxparams, name, values))
PHYLLOME_LIBVIRT_FORWARD(virStoragePoolPtr, virStoragePoolLookupByTargetPath, (virConnectPtr conn, const char* path),
                         (conn, path))
PHYLLOME_LIBVIRT_FORWARD(virStoragePoolPtr, virStoragePoolCreateXML,
                         (virConnectPtr conn, const char* xmlDesc, unsigned int flags), (conn, xmlDesc, flags))
PHYLLOME_LIBVIRT_FORWARD(int, virStoragePoolRef, (virStoragePoolPtr pool), (pool))
PHYLLOME_LIBVIRT_FORWARD(int, virStoragePoolRefresh, (virStoragePoolPtr pool, unsigned int flags), (pool, flags))
PHYLLOME_LIBVIRT_FORWARD(int, virStoragePoolGetInfo, (virStoragePoolPtr pool, virStoragePoolInfoPtr info),
                         (pool, info))
PHYLLOME_LIBVIRT_FORWARD(int, virStoragePoolDestroy, (virStoragePoolPtr pool), (pool))
PHYLLOME_LIBVIRT_FORWARD(int, virStoragePoolFree, (virStoragePoolPtr pool), (pool))
PHYLLOME_LIBVIRT_FORWARD(virStorageVolPtr, virStorageVolLookupByName, (virStoragePoolPtr pool, const char* name),
                         (pool, name))
PHYLLOME_LIBVIRT_FORWARD(virStorageVolPtr, virStorageVolCreateXML,
                         (virStoragePoolPtr pool, const char* xmlDesc, unsigned int flags), (pool, xmlDesc, flags))
PHYLLOME_LIBVIRT_FORWARD(int, virStorageVolDelete, (virStorageVolPtr vol, unsigned int flags), (vol, flags))
PHYLLOME_LIBVIRT_FORWARD(int, virStorageVolFree, (virStorageVolPtr vol), (vol))

// Where libvirt is missing, the message every failed call leads to says so.
extern "C" const char* virGetLastErrorMessage(void) {
    using Fn = const char* (*)(void);
    static const Fn real = reinterpret_cast<Fn>(symbol("virGetLastErrorMessage"));
    if (!real)
        return phyllome::guestview::library().error.empty() ? "libvirt is not available"
                                                            : phyllome::guestview::library().error.c_str();
    return real();
}
