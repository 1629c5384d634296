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

std::string text_content(const xmlNode* node) {
    if (node == nullptr)
        return {};
    xml::StringPtr text{xmlNodeGetContent(node)};
    return text ? std::string(xml::text_of(text.get())) : std::string();
}

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
        error = "the domain XML cannot be read";
        return std::nullopt;
    }
    GuestFiles files;
    files.name = trimmed(text_content(xml::child(root, "name", std::nullopt)));
    files.uuid = trimmed(text_content(xml::child(root, "uuid", std::nullopt)));
    if (xmlNode* os = xml::child(root, "os", std::nullopt)) {
        files.nvram = trimmed(text_content(xml::child(os, "nvram", std::nullopt)));
        files.loader = trimmed(text_content(xml::child(os, "loader", std::nullopt)));
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
        const std::string device = xml::attribute(node, "device").value_or("disk");
        if (xml::attribute(node, "type").value_or("") != "file" || device != "disk" || path.empty()) {
            files.other_devs.push_back(dev);
            if ((device == "cdrom" || device == "floppy") && !path.empty())
                files.media.push_back({dev, path, {}, {}});
            continue;
        }
        GuestDisk disk{dev, path, "raw", {}};
        if (xmlNode* driver = xml::child(node, "driver", std::nullopt))
            disk.format = xml::attribute(driver, "type").value_or("raw");
        // libvirt writes <encryption> inside <source>; older definitions have it beside it.
        xmlNode* encryption = xml::child(source, "encryption", std::nullopt);
        if (encryption == nullptr)
            encryption = xml::child(node, "encryption", std::nullopt);
        if (encryption != nullptr)
            if (xmlNode* secret = xml::child(encryption, "secret", std::nullopt))
                disk.secret_uuid = xml::attribute(secret, "uuid").value_or("");
        files.disks.push_back(std::move(disk));
    }
    return files;
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

std::string tpm_state_dir(const LibvirtStateDirs& dirs, std::string_view uuid) {
    return fmt::format("{}/{}", dirs.swtpm, uuid);
}

std::string tpm_state_dir(const LibvirtStateDirs& dirs, const GuestFiles& files) {
    return files.tpm_source_dir.empty() ? tpm_state_dir(dirs, files.uuid) : files.tpm_source_dir;
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

bool valid_guest_name(std::string_view name) {
    const auto name_char = [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
    };
    return !name.empty() && name.size() <= 64 && std::ranges::all_of(name, name_char) && name.front() != '.' &&
           name.front() != '-';
}

} // namespace phyllome::guestview
