#include "guestview/guest_removal.hpp"

#include <cstring>
#include <filesystem>
#include <memory>
#include <vector>

#include <fmt/format.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "config/log.hpp"
#include "guestview/disk_secret.hpp"
#include "guestview/libvirt_handles.hpp"

namespace phyllome::guestview {
namespace {

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

struct FileDisk {
    std::string path;
    std::string secret_uuid; // of its <encryption>, or empty
};

// The guest's file-backed hard disks (device='disk'): never CD-ROMs, floppies or LUNs.
std::vector<FileDisk> file_disks(const char* domain_xml) {
    std::vector<FileDisk> disks;
    std::unique_ptr<xmlDoc, DocFreer> doc{xmlReadMemory(domain_xml, static_cast<int>(std::strlen(domain_xml)),
                                                        "domain.xml", nullptr, XML_PARSE_NONET)};
    xmlNode* devices = doc ? child(xmlDocGetRootElement(doc.get()), "devices") : nullptr;
    for (xmlNode* disk = devices ? devices->children : nullptr; disk != nullptr; disk = disk->next) {
        if (!named(disk, "disk") || attribute(disk, "type") != "file" || attribute(disk, "device") != "disk")
            continue;
        xmlNode* source = child(disk, "source");
        FileDisk found{attribute(source, "file"), {}};
        // libvirt writes <encryption> inside <source>; older definitions have it beside it.
        xmlNode* encryption = child(source, "encryption");
        if (encryption == nullptr)
            encryption = child(disk, "encryption");
        found.secret_uuid = attribute(child(encryption, "secret"), "uuid");
        if (!found.path.empty())
            disks.push_back(std::move(found));
    }
    return disks;
}

std::string uuid_of(virSecretPtr secret) {
    char uuid[VIR_UUID_STRING_BUFLEN] = {};
    return virSecretGetUUIDString(secret, uuid) == 0 ? uuid : "";
}

} // namespace

std::string remove_guest_and_disks(virConnectPtr connection, const std::string& guest, const std::string& disk_dir,
                                   virConnectPtr secrets) {
    if (secrets == nullptr)
        secrets = connection;
    DomainPtr domain{virDomainLookupByName(connection, guest.c_str())};
    if (!domain)
        return fmt::format("cannot find guest '{}': {}", guest, last_libvirt_error());
    const int active = virDomainIsActive(domain.get());
    if (active < 0)
        return fmt::format("cannot tell whether guest '{}' runs: {}", guest, last_libvirt_error());
    if (active > 0)
        return fmt::format("guest '{}' is not shut off: shut it down first", guest);
    LibvirtString xml{virDomainGetXMLDesc(domain.get(), VIR_DOMAIN_XML_INACTIVE)};
    if (!xml)
        return fmt::format("cannot read guest '{}': {}", guest, last_libvirt_error());

    // Only what the shell made goes: its secret's description or its own file name says so. A
    // disk the user attached from elsewhere may hold data that outlives this guest, and an ISO
    // (a CD-ROM, never in file_disks) is the user's installer.
    const std::filesystem::path own_disk = std::filesystem::path(disk_dir) / (guest + ".qcow2");
    struct Doomed {
        std::string path;
        std::vector<SecretPtr> secrets;
    };
    std::vector<Doomed> doomed;
    for (FileDisk& disk : file_disks(xml.get())) {
        SecretPtr by_uuid;
        if (!disk.secret_uuid.empty()) {
            by_uuid.reset(virSecretLookupByUUIDString(secrets, disk.secret_uuid.c_str()));
            if (!by_uuid)
                virResetLastError();
        }
        const bool shells_secret = by_uuid && is_shell_disk_secret(by_uuid.get(), guest);
        if (!shells_secret && std::filesystem::path(disk.path).lexically_normal() != own_disk.lexically_normal())
            continue;
        Doomed entry{disk.path, {}};
        if (by_uuid)
            entry.secrets.push_back(std::move(by_uuid));
        // The secret by the volume's path too: it would block the next disk at that path.
        if (SecretPtr by_path = volume_secret(secrets, disk.path); by_path && uuid_of(by_path.get()) != disk.secret_uuid)
            entry.secrets.push_back(std::move(by_path));
        doomed.push_back(std::move(entry));
    }

    unsigned flags = VIR_DOMAIN_UNDEFINE_MANAGED_SAVE | VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA |
                     VIR_DOMAIN_UNDEFINE_NVRAM | VIR_DOMAIN_UNDEFINE_CHECKPOINTS_METADATA;
#if LIBVIR_CHECK_VERSION(8, 9, 0)
    flags |= VIR_DOMAIN_UNDEFINE_TPM;
#endif
    if (virDomainUndefineFlags(domain.get(), flags) < 0)
        return fmt::format("cannot undefine guest '{}': {}", guest, last_libvirt_error());
    log::info("guest '{}': undefined, with its NVRAM and TPM state", guest);

    // The guest is gone by now; what follows is cleanup, reported but not undone.
    std::string problems;
    for (Doomed& entry : doomed) {
        std::error_code ec;
        std::filesystem::remove(entry.path, ec);
        if (ec)
            problems += fmt::format("{}cannot delete '{}': {}", problems.empty() ? "" : "; ", entry.path, ec.message());
        else
            log::info("guest '{}': deleted its disk '{}'", guest, entry.path);
        for (SecretPtr& secret : entry.secrets)
            if (virSecretUndefine(secret.get()) < 0)
                problems += fmt::format("{}cannot undefine the secret of '{}': {}", problems.empty() ? "" : "; ",
                                        entry.path, last_libvirt_error());
    }
    if (!problems.empty())
        return fmt::format("guest '{}' is removed, but: {}", guest, problems);
    return {};
}

} // namespace phyllome::guestview
