// The files that make up a guest on this host, as removal, duplicate and backup see them: its
// file disks (with their LUKS secrets), its NVRAM and swtpm's state folder, and where libvirt
// keeps NVRAM and TPM state for a connection.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

typedef struct _virConnect* virConnectPtr;
typedef struct _xmlNode xmlNode;

namespace phyllome::guestview {

struct GuestDisk {
    std::string dev;         // target dev: "vda", "sda"
    std::string path;        // the file
    std::string format;      // driver type: "qcow2", "raw"
    std::string secret_uuid; // of its LUKS <encryption>, or empty
};

struct GuestFiles {
    std::string name, uuid;
    std::vector<GuestDisk> disks;        // file-backed hard disks (device='disk')
    std::vector<std::string> other_devs; // every other disk's target (CD-ROMs...): not backed up
    std::vector<GuestDisk> media;        // CD-ROMs and floppies with an image file (the ISO stays where it is)
    std::string nvram;                   // the NVRAM file, or empty
    std::string loader;                  // the firmware image <loader> names, or empty
    bool firmware_autoselect = false;    // <os firmware='efi'>: libvirt picks the firmware by its features
    bool tpm_emulator = false;           // swtpm keeps state for it
    std::string tpm_source_dir;          // <backend><source type='dir' path=...>, or empty: libvirt's default
};

// nullopt with `error` when `domain_xml` cannot be read.
std::optional<GuestFiles> guest_files(std::string_view domain_xml, std::string& error);

// For code that rewrites a definition: whether <disk> `node` is one GuestFiles::disks lists, and
// its <encryption> (inside <source>, or beside it in older definitions), or null.
bool is_file_disk(const xmlNode* disk);
xmlNode* disk_encryption(const xmlNode* disk);

// Where the QEMU driver behind a connection keeps per-guest state (libvirt's qemu_conf.c):
// qemu:///embed?root=R: R/lib/qemu/nvram, R/lib/swtpm; qemu:///system: /var/lib/libvirt/qemu/nvram,
// /var/lib/libvirt/swtpm; qemu:///session: ~/.config/libvirt/qemu/nvram and qemu/swtpm.
// nullopt for a remote or another driver: its guests' files are not this host's to reach.
struct LibvirtStateDirs {
    std::string nvram;
    std::string swtpm;
};
std::optional<LibvirtStateDirs> state_dirs_for_uri(std::string_view uri);
std::optional<LibvirtStateDirs> state_dirs(virConnectPtr connection);

// swtpm's state folder for the guest with `uuid` (it holds tpm2/ or tpm1.2/): the emulator's
// `explicit_source` (GuestFiles::tpm_source_dir) when set, else libvirt's default in `dirs`.
std::string tpm_state_dir(const LibvirtStateDirs& dirs, std::string_view uuid, std::string_view explicit_source = {});

// The backing file a qcow2 image names in its header (an overlay: a copy of it alone is not the
// whole disk), or empty for a standalone image, a raw one or an unreadable one.
std::string qcow2_backing_file(const std::string& path);

} // namespace phyllome::guestview
