#include "guestview/jobs/backup_secrets.hpp"

#include <cstring>

#include <fmt/format.h>
#include <libxml/tree.h>

#include "guestview/domain_model.hpp"
#include "guestview/xml_tree.hpp"

namespace phyllome::guestview {
namespace {

std::string escape(const std::string& text) {
    xml::StringPtr escaped{xmlEncodeSpecialChars(nullptr, reinterpret_cast<const xmlChar*>(text.c_str()))};
    return escaped ? std::string(xml::text_of(escaped.get())) : std::string();
}

} // namespace

SecretValue read_secret_value(virConnectPtr connection, const std::string& uuid) {
    SecretValue out;
    SecretPtr secret{virSecretLookupByUUIDString(connection, uuid.c_str())};
    if (!secret) {
        out.error = fmt::format("cannot find the disk's secret {}: {}", uuid, last_libvirt_error());
        virResetLastError();
        return out;
    }
    std::size_t size = 0;
    // A private secret (the shell defines its disks' secrets private) is refused here: libvirt
    // gives its value to QEMU only.
    std::unique_ptr<unsigned char, MallocFreer> value{virSecretGetValue(secret.get(), &size, 0)};
    if (!value) {
        out.error = fmt::format("libvirt does not hand out the value of the disk's secret {}: {}", uuid,
                                last_libvirt_error());
        virResetLastError();
        return out;
    }
    out.value.assign(reinterpret_cast<const char*>(value.get()), size);
    std::memset(value.get(), 0, size);
    return out;
}

bool secret_defined(virConnectPtr connection, const std::string& uuid) {
    SecretPtr secret{virSecretLookupByUUIDString(connection, uuid.c_str())};
    if (!secret)
        virResetLastError();
    return secret != nullptr;
}

DefinedSecret define_restored_secret(virConnectPtr connection, const std::string& uuid, const std::string& value,
                                     const std::string& volume, const std::string& guest) {
    DefinedSecret out;
    const std::string xml = fmt::format("<secret ephemeral='no' private='yes'>\n  <uuid>{}</uuid>\n"
                                        "  <description>{}</description>\n"
                                        "  <usage type='volume'>\n    <volume>{}</volume>\n  </usage>\n</secret>\n",
                                        escape(uuid), escape(disk_secret_description(guest)), escape(volume));
    out.secret.reset(virSecretDefineXML(connection, xml.c_str(), 0));
    if (!out.secret) {
        out.error = fmt::format("cannot define the disk's secret {}: {}", uuid, last_libvirt_error());
        virResetLastError();
        return out;
    }
    if (virSecretSetValue(out.secret.get(), reinterpret_cast<const unsigned char*>(value.data()), value.size(), 0) < 0) {
        out.error = fmt::format("cannot store the value of the disk's secret {}: {}", uuid, last_libvirt_error());
        virSecretUndefine(out.secret.get());
        out.secret.reset();
    }
    return out;
}

} // namespace phyllome::guestview
