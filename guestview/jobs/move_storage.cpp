#include "guestview/jobs/move_storage.hpp"

#include <cstring>
#include <filesystem>
#include <map>

#include <fmt/format.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "config/log.hpp"
#include "guestview/disk_secret.hpp"
#include "guestview/domain_model.hpp"
#include "guestview/libvirt_handles.hpp"
#include "guestview/xml_tree.hpp"

namespace phyllome::guestview {

void PoolFreer::operator()(virStoragePoolPtr pool) const { virStoragePoolFree(pool); }
void VolFreer::operator()(virStorageVolPtr vol) const { virStorageVolFree(vol); }

namespace {

using PoolPtr = std::unique_ptr<struct _virStoragePool, PoolFreer>;
using VolPtr = std::unique_ptr<struct _virStorageVol, VolFreer>;

struct DocFreer {
    void operator()(xmlDoc* doc) const { xmlFreeDoc(doc); }
};
struct XmlStringFreer {
    void operator()(xmlChar* text) const { xmlFree(text); }
};

bool named(const xmlNode* node, std::string_view name) {
    return node != nullptr && node->type == XML_ELEMENT_NODE && name == reinterpret_cast<const char*>(node->name);
}

xmlNode* child(const xmlNode* parent, std::string_view name) {
    for (xmlNode* node = parent != nullptr ? parent->children : nullptr; node != nullptr; node = node->next)
        if (named(node, name))
            return node;
    return nullptr;
}

std::string attribute(const xmlNode* node, const char* name) {
    if (node == nullptr)
        return {};
    std::unique_ptr<xmlChar, XmlStringFreer> value{xmlGetNoNsProp(node, reinterpret_cast<const xmlChar*>(name))};
    return value ? reinterpret_cast<const char*>(value.get()) : "";
}

std::string gib(std::uint64_t bytes) { return fmt::format("{:.1f} GiB", static_cast<double>(bytes) / (1ULL << 30)); }

} // namespace

std::vector<MoveDisk> disks_to_move(const char* domain_xml) {
    std::vector<MoveDisk> disks;
    std::unique_ptr<xmlDoc, DocFreer> doc{xmlReadMemory(domain_xml, static_cast<int>(std::strlen(domain_xml)),
                                                        "domain.xml", nullptr, XML_PARSE_NONET)};
    xmlNode* devices = doc ? child(xmlDocGetRootElement(doc.get()), "devices") : nullptr;
    for (xmlNode* disk = devices ? devices->children : nullptr; disk != nullptr; disk = disk->next) {
        if (!named(disk, "disk") || attribute(disk, "type") != "file" || attribute(disk, "device") != "disk" ||
            child(disk, "readonly") != nullptr || child(disk, "shareable") != nullptr)
            continue;
        xmlNode* source = child(disk, "source");
        MoveDisk found{attribute(child(disk, "target"), "dev"), attribute(source, "file"),
                       attribute(child(disk, "driver"), "type"), false};
        // libvirt writes <encryption> inside <source>; older definitions have it beside it.
        xmlNode* encryption = child(source, "encryption");
        if (encryption == nullptr)
            encryption = child(disk, "encryption");
        found.encrypted = encryption != nullptr;
        found.secret_uuid = attribute(child(encryption, "secret"), "uuid");
        if (found.format.empty())
            found.format = "raw";
        if (!found.path.empty() && !found.target.empty())
            disks.push_back(std::move(found));
    }
    return disks;
}

std::string nvram_path(const char* domain_xml) {
    std::unique_ptr<xmlDoc, DocFreer> doc{xmlReadMemory(domain_xml, static_cast<int>(std::strlen(domain_xml)),
                                                        "domain.xml", nullptr, XML_PARSE_NONET)};
    xmlNode* nvram = doc ? child(child(xmlDocGetRootElement(doc.get()), "os"), "nvram") : nullptr;
    if (nvram == nullptr || attribute(nvram, "type") == "network")
        return {};
    std::unique_ptr<xmlChar, XmlStringFreer> text{xmlNodeGetContent(nvram)};
    return text ? reinterpret_cast<const char*>(text.get()) : "";
}

std::string measure_disks(virDomainPtr domain, std::vector<MoveDisk>& disks) {
    for (MoveDisk& disk : disks) {
        virDomainBlockInfo info{};
        if (virDomainGetBlockInfo(domain, disk.target.c_str(), &info, 0) < 0)
            return fmt::format("cannot measure its disk '{}': {}", disk.path, last_libvirt_error());
        disk.capacity = info.capacity;
        // A qcow2 file's allocation is its data; a sparse raw file's too.
        disk.allocation = info.allocation != 0 ? info.allocation : info.physical;
    }
    return {};
}

DestinationDisks::~DestinationDisks() {
    for (Pool& entry : pools_)
        if (entry.transient && virStoragePoolDestroy(entry.pool.get()) < 0) // a dir pool keeps its files
            log::warn("cannot remove the transient storage pool of a move: {}", last_libvirt_error());
}

virStoragePoolPtr DestinationDisks::pool_for(virConnectPtr destination, const std::string& dir,
                                             const std::string& host, std::string& error) {
    for (Pool& entry : pools_)
        if (entry.dir == dir)
            return entry.pool.get();
    PoolPtr pool{virStoragePoolLookupByTargetPath(destination, dir.c_str())};
    bool transient = false;
    if (!pool) {
        const int code = virGetLastErrorCode();
        if (code == VIR_ERR_NO_SUPPORT || code == VIR_ERR_NO_CONNECT)
            return nullptr;
        // No pool covers the directory: a transient one lets us make and remove files there and
        // check the room; building it makes the directory when missing.
        const std::string xml =
            fmt::format("<pool type='dir'><name>phyllome-move-{:x}</name><target><path>{}</path></target></pool>",
                        std::hash<std::string>{}(dir), xml::escape(dir));
        pool.reset(virStoragePoolCreateXML(destination, xml.c_str(), VIR_STORAGE_POOL_CREATE_WITH_BUILD));
        if (!pool) {
            error = fmt::format("cannot make the folder '{}' ready on {}: {}", dir, host, last_libvirt_error());
            return nullptr;
        }
        transient = true;
    } else if (virStoragePoolRefresh(pool.get(), 0) < 0) {
        virResetLastError(); // an inactive pool: its info says so
    }
    virStoragePoolInfo info{};
    if (virStoragePoolGetInfo(pool.get(), &info) < 0) {
        error = fmt::format("cannot read the storage pool of '{}' on {}: {}", dir, host, last_libvirt_error());
        return nullptr;
    }
    if (info.state != VIR_STORAGE_POOL_RUNNING) {
        error = fmt::format("the storage pool of '{}' on {} is not active: start it there (virsh pool-start)", dir,
                            host);
        return nullptr;
    }
    pools_.push_back({dir, std::move(pool), transient});
    return pools_.back().pool.get();
}

std::string DestinationDisks::prepare(virConnectPtr destination, const std::string& guest,
                                      std::vector<MoveDisk>& disks, const std::string& host, std::string& note) {
    // The room each directory's pool needs.
    std::map<virStoragePoolPtr, std::pair<std::string, std::uint64_t>> needed;
    for (const MoveDisk& disk : disks) {
        const std::string dir = std::filesystem::path(disk.path).parent_path().string();
        std::string error;
        virStoragePoolPtr pool = pool_for(destination, dir, host, error);
        if (!error.empty())
            return error;
        if (pool == nullptr) {
            note = fmt::format("{} has no storage driver: its free disk space was not checked", host);
            return {};
        }
        needed[pool].first = dir;
        needed[pool].second += disk.allocation;
    }
    for (const auto& [pool, entry] : needed) {
        virStoragePoolInfo info{};
        if (virStoragePoolGetInfo(pool, &info) < 0)
            return fmt::format("cannot read the free space of '{}' on {}: {}", entry.first, host, last_libvirt_error());
        if (info.available < entry.second)
            return fmt::format("{} has {} free in '{}', the disks need {}", host, gib(info.available), entry.first,
                               gib(entry.second));
    }

    for (MoveDisk& disk : disks) {
        const std::filesystem::path path{disk.path};
        std::string error;
        virStoragePoolPtr pool = pool_for(destination, path.parent_path().string(), host, error);
        const std::string name = path.filename().string();
        if (VolPtr existing{virStorageVolLookupByName(pool, name.c_str())})
            return fmt::format("{} already has a file '{}': remove or rename it there first", host, disk.path);
        virResetLastError();
        std::string encryption;
        if (disk.encrypted) {
            GuestSpec spec;
            spec.name = guest;
            spec.disk_dir = path.parent_path().string();
            if (phyllome_disk_path(spec) != disk.path || disk.format != "qcow2")
                return fmt::format("the encrypted disk '{}' is not one the shell made, so it cannot be encrypted "
                                   "anew on {}: use Export and Import",
                                   disk.path, host);
            DiskSecret secret = define_disk_secret(destination, spec);
            if (!secret.error.empty())
                return fmt::format("{}: {}", host, secret.error);
            if (!secret.secret)
                return fmt::format("{} keeps no libvirt secrets, so '{}' could not stay encrypted there", host,
                                   disk.path);
            disk.new_secret = spec.secret_uuid;
            secrets_.push_back(std::move(secret.secret));
            encryption = fmt::format("<encryption format='luks'><secret type='passphrase' uuid='{}'/></encryption>",
                                     disk.new_secret);
        }
        // Like libvirt's own: qcow2 v3 with its metadata laid out; the copy fills in the data.
        const bool qcow2 = disk.format == "qcow2";
        const std::string xml = fmt::format(
            "<volume><name>{}</name><capacity unit='bytes'>{}</capacity><target><format type='{}'/>{}{}</target>"
            "</volume>",
            xml::escape(name), disk.capacity, xml::escape(disk.format), qcow2 ? "<compat>1.1</compat>" : "", encryption);
        VolPtr made{virStorageVolCreateXML(
            pool, xml.c_str(), qcow2 && !disk.encrypted ? VIR_STORAGE_VOL_CREATE_PREALLOC_METADATA : 0)};
        if (!made)
            return fmt::format("cannot make '{}' on {}: {}", disk.path, host, last_libvirt_error());
        made_.push_back(std::move(made));
    }
    return {};
}

std::string DestinationDisks::watch(virConnectPtr destination, const std::string& path, const std::string& host) {
    const std::filesystem::path file{path};
    std::string error;
    virStoragePoolPtr pool = pool_for(destination, file.parent_path().string(), host, error);
    if (pool == nullptr)
        return error.empty() ? fmt::format("{} has no storage driver", host) : error;
    if (VolPtr existing{virStorageVolLookupByName(pool, file.filename().c_str())})
        return {}; // there before us: not ours to remove
    virResetLastError();
    watched_.emplace_back(pool, file.filename().string());
    return {};
}

void DestinationDisks::discard() {
    for (auto& vol : made_)
        if (virStorageVolDelete(vol.get(), 0) < 0)
            log::warn("cannot delete a half-moved disk on the destination: {}", last_libvirt_error());
    made_.clear();
    for (const auto& [pool, name] : watched_) {
        virStoragePoolRefresh(pool, 0); // the pool learns of files made since
        if (VolPtr left{virStorageVolLookupByName(pool, name.c_str())}) {
            if (virStorageVolDelete(left.get(), 0) < 0)
                log::warn("cannot delete '{}' left by a failed move on the destination: {}", name, last_libvirt_error());
        }
        virResetLastError();
    }
    watched_.clear();
    for (auto& secret : secrets_)
        if (virSecretUndefine(secret.get()) < 0)
            log::warn("cannot undefine a half-moved disk's secret on the destination: {}", last_libvirt_error());
    secrets_.clear();
}

} // namespace phyllome::guestview
