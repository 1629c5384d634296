#include "guestview/jobs/guest_files.hpp"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <fstream>

#include <fmt/format.h>

#include "guestview/embedded_libvirt.hpp"
#include "guestview/libvirt_handles.hpp"
#include "guestview/xml_tree.hpp"

namespace phyllome::guestview {
namespace {

std::string trimmed(std::string text) {
    const auto first = text.find_first_not_of(" \t\r\n");
    if (first == std::string::npos)
        return {};
    return text.substr(first, text.find_last_not_of(" \t\r\n") - first + 1);
}

std::string home_config_dir() {
    if (const char* xdg = std::getenv("XDG_CONFIG_HOME"); xdg != nullptr && *xdg == '/')
        return xdg;
    const char* home = std::getenv("HOME");
    return std::string(home != nullptr ? home : "") + "/.config";
}

} // namespace

std::optional<GuestFiles> guest_files(std::string_view domain_xml, std::string& error) {
    xml::DocPtr doc = xml::parse(domain_xml);
    xmlNode* root = doc ? xmlDocGetRootElement(doc.get()) : nullptr;
    if (root == nullptr || !xml::is_element(root, "domain", std::nullopt)) {
        error = "its definition is not a libvirt domain";
        return std::nullopt;
    }
    GuestFiles files;
    files.name = trimmed(xml::text(xml::child(root, "name", std::nullopt)));
    files.uuid = trimmed(xml::text(xml::child(root, "uuid", std::nullopt)));
    if (xmlNode* os = xml::child(root, "os", std::nullopt)) {
        files.nvram = trimmed(xml::text(xml::child(os, "nvram", std::nullopt)));
        files.loader = trimmed(xml::text(xml::child(os, "loader", std::nullopt)));
        files.firmware_autoselect = xml::attribute(os, "firmware").value_or("") == "efi";
    }
    xmlNode* devices = xml::child(root, "devices", std::nullopt);
    for (xmlNode* node = devices ? devices->children : nullptr; node != nullptr; node = node->next) {
        if (xml::is_element(node, "tpm", std::nullopt)) {
            xmlNode* backend = xml::child(node, "backend", std::nullopt);
            if (backend != nullptr && xml::attribute(backend, "type").value_or("") == "emulator") {
                files.tpm_emulator = true;
                if (xmlNode* source = xml::child(backend, "source", std::nullopt);
                    source != nullptr && xml::attribute(source, "type").value_or("") == "dir")
                    files.tpm_source_dir = xml::attribute(source, "path").value_or("");
            }
            continue;
        }
        if (!xml::is_element(node, "disk", std::nullopt))
            continue;
        xmlNode* target = xml::child(node, "target", std::nullopt);
        const std::string dev = target ? xml::attribute(target, "dev").value_or("") : "";
        if (dev.empty() || !std::ranges::all_of(dev, [](char c) { return std::isalnum(static_cast<unsigned char>(c)); })) {
            error = fmt::format("a disk has no usable target name ('{}')", dev);
            return std::nullopt;
        }
        xmlNode* source = xml::child(node, "source", std::nullopt);
        const std::string path = source ? xml::attribute(source, "file").value_or("") : "";
        if (!is_file_disk(node)) {
            files.other_devs.push_back(dev);
            const std::string device = xml::attribute(node, "device").value_or("disk");
            if ((device == "cdrom" || device == "floppy") && !path.empty())
                files.media.push_back({dev, path, {}, {}});
            continue;
        }
        GuestDisk disk{dev, path, "raw", {}};
        if (xmlNode* driver = xml::child(node, "driver", std::nullopt))
            disk.format = xml::attribute(driver, "type").value_or("raw");
        if (xmlNode* encryption = disk_encryption(node))
            if (xmlNode* secret = xml::child(encryption, "secret", std::nullopt))
                disk.secret_uuid = xml::attribute(secret, "uuid").value_or("");
        files.disks.push_back(std::move(disk));
    }
    return files;
}

bool is_file_disk(const xmlNode* disk) {
    if (!xml::is_element(disk, "disk", std::nullopt) || xml::attribute(disk, "type").value_or("") != "file" ||
        xml::attribute(disk, "device").value_or("disk") != "disk")
        return false;
    const xmlNode* source = xml::child(disk, "source", std::nullopt);
    return source != nullptr && !xml::attribute(source, "file").value_or("").empty();
}

xmlNode* disk_encryption(const xmlNode* disk) {
    // libvirt writes <encryption> inside <source>; older definitions have it beside it.
    if (const xmlNode* source = xml::child(disk, "source", std::nullopt))
        if (xmlNode* encryption = xml::child(source, "encryption", std::nullopt))
            return encryption;
    return xml::child(disk, "encryption", std::nullopt);
}

std::optional<LibvirtStateDirs> state_dirs_for_uri(std::string_view uri) {
    if (auto root = embedded_root(uri))
        return LibvirtStateDirs{*root + "/lib/qemu/nvram", *root + "/lib/swtpm"};
    const auto query = uri.find('?');
    const std::string_view plain = uri.substr(0, query);
    // qemu+unix is the same host's daemon through another socket: the same folders.
    if (plain == "qemu:///system" || plain == "qemu+unix:///system")
        return LibvirtStateDirs{"/var/lib/libvirt/qemu/nvram", "/var/lib/libvirt/swtpm"};
    if (plain == "qemu:///session" || plain == "qemu+unix:///session") {
        const std::string base = home_config_dir() + "/libvirt/qemu";
        return LibvirtStateDirs{base + "/nvram", base + "/swtpm"};
    }
    return std::nullopt; // a remote or foreign driver: its files are not ours to reach
}

std::optional<LibvirtStateDirs> state_dirs(virConnectPtr connection) {
    LibvirtString uri{virConnectGetURI(connection)};
    if (!uri) {
        virResetLastError();
        return std::nullopt;
    }
    return state_dirs_for_uri(uri.get());
}

std::string tpm_state_dir(const LibvirtStateDirs& dirs, std::string_view uuid, std::string_view explicit_source) {
    if (!explicit_source.empty())
        return std::string{explicit_source};
    return uuid.empty() ? std::string() : fmt::format("{}/{}", dirs.swtpm, uuid);
}

std::string qcow2_backing_file(const std::string& path) {
    // The qcow2 header (QEMU's docs/interop/qcow2.txt): magic "QFI\xfb", version, then the
    // backing file name's offset (8 bytes) and size (4 bytes), big-endian.
    std::ifstream in(path, std::ios::binary);
    unsigned char header[20] = {};
    if (!in.read(reinterpret_cast<char*>(header), sizeof header) || header[0] != 'Q' || header[1] != 'F' ||
        header[2] != 'I' || header[3] != 0xfb)
        return {};
    std::uint64_t offset = 0;
    for (int i = 8; i < 16; ++i)
        offset = offset << 8 | header[i];
    std::uint32_t size = 0;
    for (int i = 16; i < 20; ++i)
        size = size << 8 | header[i];
    if (offset == 0 || size == 0 || size > 1023)
        return {};
    std::string name(size, '\0');
    in.seekg(static_cast<std::streamoff>(offset));
    if (!in.read(name.data(), size))
        return {};
    return name;
}

} // namespace phyllome::guestview
