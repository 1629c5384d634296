// A live move's disks (guest_move.hpp): which of a guest's disks are copied, and their empty
// copies made ready on the destination before the copy starts. libvirt's copy (NBD) writes
// into files that must exist on the destination, and libvirt 11 makes them itself only where a
// storage pool's directory holds them, and leaves them behind when the move fails; so we make
// them ourselves through the destination's storage API, where we can check the room first and
// remove them again.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "guestview/libvirt_handles.hpp"

typedef struct _virConnect* virConnectPtr;
typedef struct _virDomain* virDomainPtr;
typedef struct _virStoragePool* virStoragePoolPtr;
typedef struct _virStorageVol* virStorageVolPtr;

namespace phyllome::guestview {

struct MoveDisk {
    std::string target;      // vda, sda: what VIR_MIGRATE_PARAM_MIGRATE_DISKS names
    std::string path;        // the file, the same path on both hosts
    std::string format;      // qcow2, raw
    bool encrypted = false;  // LUKS, unlocked by a libvirt secret
    std::string secret_uuid; // that secret here
    std::string new_secret;  // set by prepare(): the secret of its copy there
    std::uint64_t capacity = 0;   // the guest's disk size
    std::uint64_t allocation = 0; // what it takes on the host now (the copy takes about as much)
};

// The writable file-backed disks of `domain_xml` (a guest's live XML), the ones a move copies:
// never CD-ROMs, read-only or shareable disks (the destination must have those itself).
std::vector<MoveDisk> disks_to_move(const char* domain_xml);

// The file of the guest's UEFI variables (<os><nvram>), empty when it has none.
std::string nvram_path(const char* domain_xml);

// Fills in capacity and allocation from the running guest; empty, or the error.
std::string measure_disks(virDomainPtr domain, std::vector<MoveDisk>& disks);

struct PoolFreer {
    void operator()(virStoragePoolPtr pool) const;
};
struct VolFreer {
    void operator()(virStorageVolPtr vol) const;
};


// The destination's copies of the disks. What prepare() made stays until discard() removes it;
// the transient pools it needed go with this object (their files stay).
class DestinationDisks {
public:
    DestinationDisks() = default;
    ~DestinationDisks();
    DestinationDisks(const DestinationDisks&) = delete;
    DestinationDisks& operator=(const DestinationDisks&) = delete;

    // For each disk: the destination must have no file at its path and room for it (its pool's
    // free space); then an empty volume of the same size and format is made there. A directory
    // no pool covers gets a transient one (built when missing). An encrypted disk (the shell's
    // own, <guest>.qcow2) is encrypted there under a new secret with a new random passphrase:
    // this host's passphrase is private to its libvirt and never leaves it; the copy carries the
    // guest's view of the disk, which the destination encrypts with its own key. Empty on
    // success, else the error for the user (naming `host`); `note` says what could not be
    // checked.
    std::string prepare(virConnectPtr destination, const std::string& guest, std::vector<MoveDisk>& disks,
                        const std::string& host, std::string& note);
    // A file libvirt makes on the destination during a move and leaves there when the move
    // fails: libvirt 11.3 keeps the NVRAM it made from the firmware's template after a cancel.
    // When `path` is not there now, discard() deletes it. Empty, or why it cannot be watched.
    std::string watch(virConnectPtr destination, const std::string& path, const std::string& host);
    // Deletes the volumes and secrets prepare() made and the watched files that appeared (the
    // move failed or was cancelled).
    void discard();
    std::size_t made() const { return made_.size(); }

private:
    // The active pool of `dir` on `destination`, a transient one when none covers it; null
    // with `error` set, or null with `error` empty when the destination has no storage driver.
    virStoragePoolPtr pool_for(virConnectPtr destination, const std::string& dir, const std::string& host,
                               std::string& error);

    struct Pool {
        std::string dir;
        std::unique_ptr<struct _virStoragePool, PoolFreer> pool;
        bool transient = false;
    };
    std::vector<Pool> pools_;
    std::vector<std::unique_ptr<struct _virStorageVol, VolFreer>> made_;
    std::vector<std::pair<virStoragePoolPtr, std::string>> watched_;
    std::vector<SecretPtr> secrets_;
};

} // namespace phyllome::guestview
