// What operating system an installer ISO holds, from libosinfo and its osinfo-db (the database
// virt-install and GNOME Boxes use): its name, the resources it needs and the virtio devices its
// installer has drivers for. Nothing here is a hand-written table of ISOs.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace phyllome::guestview {

enum class OsFamily { Windows, Linux, Bsd, Other };
std::string_view to_string(OsFamily family); // "Windows", "Linux", "BSD", "other"

struct OsResources {
    int memory_mb = 0; // 0: libosinfo does not say
    int cpus = 0;
    int disk_gb = 0;
    bool operator==(const OsResources&) const = default;
};

struct OsProfile {
    std::string id;      // libosinfo's short id, e.g. "win11"; empty for an unrecognised installer
    std::string uri;     // libosinfo's full id, e.g. "http://microsoft.com/win/11"
    std::string name;    // "Microsoft Windows 11"
    std::string version; // "11.0"
    OsFamily family = OsFamily::Other;
    bool uefi = true; // boots with UEFI on x86_64; false for BIOS-only systems
    OsResources minimum, recommended;
    // Drivers the OS (its installer) has in the box, from the devices libosinfo lists for it.
    bool virtio_block = false, virtio_net = false, virtio_gpu = false, virtio_input = false;
    // How often its installer restarts the machine before the OS runs from its disk
    // (libosinfo's installer-reboots; 1 when the database does not say).
    int installer_reboots = 1;
    bool recognised() const { return !id.empty(); }
    bool operator==(const OsProfile&) const = default;
};

// The installer ISO as libosinfo reads it (the ISO 9660 volume descriptor), whether or not it
// matched an OS. `problem` is set when the file is no bootable ISO.
struct InstallerIdentity {
    std::optional<OsProfile> os; // nullopt: no OS in the database matches
    std::string volume_id;       // what it was matched by, for the user and the log
    std::string problem;
};

// The loaded database. Loading reads every osinfo-db file (~0.3 s): do it once, off the
// compositor's loop (the agent's worker thread), and keep it.
class OsDatabase {
public:
    // The system database (osinfo-db) plus the user's and local additions, as libosinfo finds
    // them; nullptr and `error` when it cannot be read (e.g. osinfo-db is not installed).
    static std::unique_ptr<OsDatabase> load(std::string& error);
    ~OsDatabase();
    OsDatabase(const OsDatabase&) = delete;
    OsDatabase& operator=(const OsDatabase&) = delete;

    InstallerIdentity identify(const std::string& iso_path) const;
    // By short id ("win11", "debian13"), for a user who names the OS; nullopt when unknown.
    std::optional<OsProfile> find(std::string_view short_id) const;

private:
    struct Impl;
    explicit OsDatabase(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

// Loads the database the first time it is needed and keeps it (or the error). Not thread-safe:
// one thread (the agent's worker) uses it.
class LazyOsDatabase {
public:
    const OsDatabase* get();
    const std::string& error() const { return error_; }
    // Drops the database and gives its memory back to the system (~55 MB); the next get()
    // loads it again.
    void release();

private:
    bool tried_ = false;
    std::unique_ptr<OsDatabase> db_;
    std::string error_;
};

} // namespace phyllome::guestview
