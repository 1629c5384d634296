#include "guestview/jobs/duplicate_definition.hpp"

#include <filesystem>

#include <fmt/format.h>

#include "guestview/guest_inventory.hpp"
#include "guestview/xml_tree.hpp"

namespace phyllome::guestview {
namespace {

using namespace xml;

std::vector<xmlNode*> children_of(xmlNode* parent, std::string_view name) {
    return parent != nullptr ? children(parent, name, std::nullopt) : std::vector<xmlNode*>{};
}

xmlNode* first(xmlNode* parent, std::string_view name) {
    return parent != nullptr ? child(parent, name, std::nullopt) : nullptr;
}

std::string attribute_or_empty(const xmlNode* node, const char* name) {
    return node != nullptr ? attribute(node, name).value_or("") : "";
}

xmlNode* emulator_tpm_backend(xmlNode* domain) {
    for (xmlNode* tpm : children_of(first(domain, "devices"), "tpm"))
        if (xmlNode* backend = first(tpm, "backend"); attribute_or_empty(backend, "type") == "emulator")
            return backend;
    return nullptr;
}

std::string copy_path(const std::string& disk_dir, const std::string& new_name, const std::string& from,
                      std::size_t index) {
    std::string extension = std::filesystem::path(from).extension().string();
    if (extension.empty())
        extension = ".qcow2";
    const std::string stem = index == 0 ? new_name : fmt::format("{}-{}", new_name, index + 1);
    return (std::filesystem::path(disk_dir) / (stem + extension)).string();
}

} // namespace

OriginalGuest read_original(std::string_view original_xml, const std::string& new_name, const std::string& disk_dir) {
    OriginalGuest original;
    auto files = guest_files(original_xml, original.error);
    if (!files)
        return original;
    original.files = std::move(*files);
    for (const GuestDisk& disk : original.files.disks)
        original.copies.push_back(copy_path(disk_dir, new_name, disk.path, original.copies.size()));
    return original;
}

std::string duplicate_xml(std::string_view original_xml, const std::string& new_name, const OriginalGuest& original,
                          const std::vector<std::string>& new_secret_uuids, std::string& error) {
    DocPtr doc = parse(original_xml);
    xmlNode* domain = doc ? xmlDocGetRootElement(doc.get()) : nullptr;
    if (domain == nullptr || !is_element(domain, "domain", std::nullopt)) {
        error = "its definition is not a libvirt domain";
        return {};
    }
    xmlNode* name = first(domain, "name");
    if (name == nullptr) {
        error = "its definition has no name";
        return {};
    }
    const std::string old_name = text(name);
    xmlNodeSetContent(name, nullptr);
    xmlNodeAddContent(name, chars(new_name.c_str()));
    // A new identity for libvirt, the guest's firmware and its network.
    for (const char* unique : {"uuid", "genid"})
        for (xmlNode* node : children(domain, unique, std::nullopt))
            remove_element(node);
    for (xmlNode* interface : children_of(first(domain, "devices"), "interface"))
        for (xmlNode* mac : children(interface, "mac", std::nullopt))
            remove_element(mac);

    std::vector<xmlNode*> disks;
    for (xmlNode* disk : children_of(first(domain, "devices"), "disk"))
        if (is_file_disk(disk))
            disks.push_back(disk);
    const std::vector<GuestDisk>& originals = original.files.disks;
    if (disks.size() != originals.size() || original.copies.size() != disks.size() ||
        new_secret_uuids.size() != disks.size()) {
        error = "its disks changed while it was being copied";
        return {};
    }
    for (std::size_t i = 0; i < disks.size(); ++i) {
        xmlSetProp(first(disks[i], "source"), chars("file"), chars(original.copies[i].c_str()));
        xmlNode* encryption = disk_encryption(disks[i]);
        if (encryption == nullptr)
            continue;
        xmlNode* secret = first(encryption, "secret");
        if (new_secret_uuids[i].empty() || secret == nullptr) {
            error = fmt::format("the copy of '{}' has no secret of its own", originals[i].path);
            return {};
        }
        xmlSetProp(secret, chars("uuid"), chars(new_secret_uuids[i].c_str()));
    }

    // Without a path libvirt names the NVRAM after the new guest; the template stays for a reset.
    if (xmlNode* nvram = first(first(domain, "os"), "nvram"))
        xmlNodeSetContent(nvram, nullptr);
    if (xmlNode* backend = emulator_tpm_backend(domain))
        for (xmlNode* source : children(backend, "source", std::nullopt))
            remove_element(source); // libvirt's own place for the new UUID
    // A serial console written to a file named after the guest gets a file of its own.
    for (const char* kind : {"serial", "console"})
        for (xmlNode* device : children_of(first(domain, "devices"), kind)) {
            xmlNode* source = first(device, "source");
            const std::string path = attribute_or_empty(source, "path");
            const std::filesystem::path file(path);
            const std::string filename = file.filename().string();
            if (attribute_or_empty(device, "type") != "file" || old_name.empty() ||
                filename.find(old_name) == std::string::npos)
                continue;
            std::string renamed = filename;
            renamed.replace(renamed.find(old_name), old_name.size(), new_name);
            xmlSetProp(source, chars("path"), chars((file.parent_path() / renamed).c_str()));
        }
    if (xmlNode* metadata = first(domain, "metadata"))
        if (xmlNode* identity = child(metadata, "identity", identity_namespace))
            remove_element(identity);

    std::string out = serialise(doc.get());
    if (out.empty())
        error = "cannot write its new definition";
    return out;
}

} // namespace phyllome::guestview
