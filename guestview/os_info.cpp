#include "guestview/os_info.hpp"

// libosinfo's headers lack extern "C" in places: GLib first (it is C++-aware and guarded), then
// libosinfo's own declarations with C linkage.
#include <glib-object.h>
extern "C" {
#include <osinfo/osinfo.h>
}

#include <malloc.h>

#include <cstdint>
#include <cstring>
#include <memory>

#include <fmt/format.h>

#include "config/log.hpp"

namespace phyllome::guestview {
namespace {

struct GObjectUnref {
    void operator()(void* object) const { g_object_unref(object); }
};
template <typename T> using GObjectPtr = std::unique_ptr<T, GObjectUnref>;

struct GErrorFree {
    void operator()(GError* error) const { g_error_free(error); }
};
using GErrorPtr = std::unique_ptr<GError, GErrorFree>;

// osinfo-db names PCI devices by URI; virtio's vendor is 1af4, and the transitional and
// virtio 1.0 product ids both count.
constexpr std::string_view virtio_device_prefix = "http://pcisig.com/pci/1af4/";
bool is_one_of(std::string_view product, std::initializer_list<std::string_view> ids) {
    for (std::string_view id : ids)
        if (id == product)
            return true;
    return false;
}

OsFamily family_of(const char* family) {
    const std::string_view f = family != nullptr ? family : "";
    if (f.starts_with("win") || f == "msdos")
        return OsFamily::Windows;
    if (f == "linux")
        return OsFamily::Linux;
    if (f.find("bsd") != std::string_view::npos || f == "dragonfly")
        return OsFamily::Bsd;
    return OsFamily::Other;
}

constexpr std::int64_t mib = 1024 * 1024;
constexpr std::int64_t gib = 1024 * mib;

// The x86_64 entry of a resources list, else the one for every architecture.
OsResources resources_of(OsinfoResourcesList* list) {
    OsResources out;
    if (list == nullptr)
        return out;
    OsinfoResources* chosen = nullptr;
    const int n = osinfo_list_get_length(OSINFO_LIST(list));
    for (int i = 0; i < n; ++i) {
        auto* r = OSINFO_RESOURCES(osinfo_list_get_nth(OSINFO_LIST(list), i));
        const char* arch = osinfo_resources_get_architecture(r);
        if (arch != nullptr && std::strcmp(arch, "x86_64") == 0) {
            chosen = r;
            break;
        }
        if (arch != nullptr && std::strcmp(arch, "all") == 0 && chosen == nullptr)
            chosen = r;
    }
    if (chosen == nullptr)
        return out;
    if (const gint64 ram = osinfo_resources_get_ram(chosen); ram > 0)
        out.memory_mb = static_cast<int>(ram / mib);
    if (const gint cpus = osinfo_resources_get_n_cpus(chosen); cpus > 0)
        out.cpus = cpus;
    if (const gint64 storage = osinfo_resources_get_storage(chosen); storage > 0)
        out.disk_gb = static_cast<int>((storage + gib - 1) / gib);
    return out;
}

// The installer-reboots of the OS's x86_64 installer media, for an OS named without its ISO.
int installer_reboots_of(OsinfoOs* os) {
    GObjectPtr<OsinfoMediaList> media{osinfo_os_get_media_list(os)};
    const int n = media ? osinfo_list_get_length(OSINFO_LIST(media.get())) : 0;
    for (int i = 0; i < n; ++i) {
        auto* m = OSINFO_MEDIA(osinfo_list_get_nth(OSINFO_LIST(media.get()), i));
        const char* arch = osinfo_media_get_architecture(m);
        if (osinfo_media_get_installer(m) && arch != nullptr && std::strcmp(arch, "x86_64") == 0)
            return std::max(1, osinfo_media_get_installer_reboots(m));
    }
    return 1;
}

// BIOS only when the database says UEFI is unsupported or lists no UEFI for x86_64 while it
// lists BIOS; an OS it says nothing about boots with UEFI, as every current one does.
bool boots_uefi(OsinfoOs* os) {
    GObjectPtr<OsinfoFirmwareList> list{osinfo_os_get_complete_firmware_list(os, nullptr)};
    const int n = list ? osinfo_list_get_length(OSINFO_LIST(list.get())) : 0;
    bool efi = false, bios = false, efi_refused = false;
    for (int i = 0; i < n; ++i) {
        auto* f = OSINFO_FIRMWARE(osinfo_list_get_nth(OSINFO_LIST(list.get()), i));
        const char* arch = osinfo_firmware_get_architecture(f);
        const char* type = osinfo_firmware_get_firmware_type(f);
        if (arch == nullptr || type == nullptr || std::strcmp(arch, "x86_64") != 0)
            continue;
        const bool supported = osinfo_firmware_is_supported(f);
        if (std::strcmp(type, "efi") == 0)
            (supported ? efi : efi_refused) = true;
        else if (std::strcmp(type, "bios") == 0 && supported)
            bios = true;
    }
    return !efi_refused && (efi || !bios);
}

OsProfile profile_of(OsinfoOs* os) {
    OsProfile p;
    auto* product = OSINFO_PRODUCT(os);
    auto text = [](const char* s) { return std::string{s != nullptr ? s : ""}; };
    p.id = text(osinfo_product_get_short_id(product));
    p.uri = text(osinfo_entity_get_id(OSINFO_ENTITY(os)));
    p.name = text(osinfo_product_get_name(product));
    p.version = text(osinfo_product_get_version(product));
    p.family = family_of(osinfo_os_get_family(os));
    p.uefi = boots_uefi(os);
    GObjectPtr<OsinfoResourcesList> minimum{osinfo_os_get_minimum_resources(os)};
    GObjectPtr<OsinfoResourcesList> recommended{osinfo_os_get_recommended_resources(os)};
    p.minimum = resources_of(minimum.get());
    p.recommended = resources_of(recommended.get());

    GObjectPtr<OsinfoDeviceList> devices{osinfo_os_get_all_devices(os, nullptr)};
    const int n = devices ? osinfo_list_get_length(OSINFO_LIST(devices.get())) : 0;
    for (int i = 0; i < n; ++i) {
        auto* d = OSINFO_DEVICE(osinfo_list_get_nth(OSINFO_LIST(devices.get()), i));
        const char* id = osinfo_entity_get_id(OSINFO_ENTITY(d));
        const std::string_view uri = id != nullptr ? id : "";
        if (!uri.starts_with(virtio_device_prefix))
            continue;
        const std::string_view product_id = uri.substr(virtio_device_prefix.size());
        p.virtio_block |= is_one_of(product_id, {"1001", "1042"});
        p.virtio_net |= is_one_of(product_id, {"1000", "1041"});
        p.virtio_gpu |= is_one_of(product_id, {"1050"});
        p.virtio_input |= is_one_of(product_id, {"1052"});
    }
    p.installer_reboots = installer_reboots_of(os);
    return p;
}

} // namespace

std::string_view to_string(OsFamily family) {
    switch (family) {
    case OsFamily::Windows: return "Windows";
    case OsFamily::Linux: return "Linux";
    case OsFamily::Bsd: return "BSD";
    case OsFamily::Other: return "other";
    }
    return "other";
}

struct OsDatabase::Impl {
    GObjectPtr<OsinfoLoader> loader; // owns the database
    OsinfoDb* db = nullptr;
};

OsDatabase::OsDatabase(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
OsDatabase::~OsDatabase() = default;

std::unique_ptr<OsDatabase> OsDatabase::load(std::string& error) {
    auto impl = std::make_unique<Impl>();
    impl->loader.reset(osinfo_loader_new());
    GError* raw = nullptr;
    osinfo_loader_process_default_path(impl->loader.get(), &raw);
    GErrorPtr failure{raw};
    if (failure) {
        error = fmt::format("cannot read the operating system database (osinfo-db): {}", failure->message);
        return nullptr;
    }
    impl->db = osinfo_loader_get_db(impl->loader.get());
    GObjectPtr<OsinfoOsList> all{osinfo_db_get_os_list(impl->db)};
    if (!all || osinfo_list_get_length(OSINFO_LIST(all.get())) == 0) {
        error = "the operating system database is empty: is osinfo-db installed?";
        return nullptr;
    }
    log::debug("osinfo-db: {} operating systems", osinfo_list_get_length(OSINFO_LIST(all.get())));
    return std::unique_ptr<OsDatabase>(new OsDatabase(std::move(impl)));
}

InstallerIdentity OsDatabase::identify(const std::string& iso_path) const {
    InstallerIdentity out;
    GError* raw = nullptr;
    GObjectPtr<OsinfoMedia> media{osinfo_media_create_from_location(iso_path.c_str(), nullptr, &raw)};
    GErrorPtr failure{raw};
    if (!media) {
        const bool not_bootable = failure && failure->domain == osinfo_media_error_quark() &&
                                  failure->code == OSINFO_MEDIA_ERROR_NOT_BOOTABLE;
        out.problem = not_bootable ? fmt::format("'{}' is not a bootable installer: it has no boot record", iso_path)
                                   : fmt::format("'{}' is not an installer disc image: {}", iso_path,
                                                 failure ? failure->message : "libosinfo cannot read it");
        return out;
    }
    if (const char* volume = osinfo_media_get_volume_id(media.get()))
        out.volume_id = volume;
    if (!osinfo_db_identify_media(impl_->db, media.get()))
        return out;
    GObjectPtr<OsinfoOs> os{osinfo_media_get_os(media.get())};
    if (!os)
        return out;
    out.os = profile_of(os.get());
    // The matched media's own count: installers of one OS differ (live vs netinst).
    if (const int reboots = osinfo_media_get_installer_reboots(media.get()); reboots > 0)
        out.os->installer_reboots = reboots;
    return out;
}

std::optional<OsProfile> OsDatabase::find(std::string_view short_id) const {
    GObjectPtr<OsinfoOsList> all{osinfo_db_get_os_list(impl_->db)};
    const int n = osinfo_list_get_length(OSINFO_LIST(all.get()));
    const std::string wanted{short_id};
    for (int i = 0; i < n; ++i) {
        auto* os = OSINFO_OS(osinfo_list_get_nth(OSINFO_LIST(all.get()), i));
        GList* ids = osinfo_product_get_short_id_list(OSINFO_PRODUCT(os));
        bool match = false;
        for (GList* it = ids; it != nullptr && !match; it = it->next)
            match = wanted == static_cast<const char*>(it->data);
        g_list_free(ids);
        if (match)
            return profile_of(os);
    }
    return std::nullopt;
}

const OsDatabase* LazyOsDatabase::get() {
    if (!tried_) {
        tried_ = true;
        db_ = OsDatabase::load(error_);
        if (!db_)
            log::warn("{}", error_);
    }
    return db_.get();
}

void LazyOsDatabase::release() {
    if (!db_)
        return;
    db_.reset();
    tried_ = false;
    // glibc keeps the freed heap of thousands of small GObjects; give it back.
    malloc_trim(0);
    log::debug("osinfo-db released");
}

} // namespace phyllome::guestview
