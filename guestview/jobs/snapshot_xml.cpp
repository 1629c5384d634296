#include "guestview/jobs/snapshot_xml.hpp"

#include <charconv>

#include <fmt/format.h>

#include "guestview/xml_tree.hpp"

namespace phyllome::guestview {
namespace {

std::string text_content(const xmlNode* node) {
    if (node == nullptr)
        return {};
    xml::StringPtr text{xmlNodeGetContent(node)};
    return text ? std::string(xml::text_of(text.get())) : std::string();
}

std::string dump(xmlDoc* doc, xmlNode* node) {
    xml::BufferPtr buffer{xmlBufferCreate()};
    if (!buffer || xmlNodeDump(buffer.get(), doc, node, 0, 0) < 0)
        return {};
    return std::string(xml::text_of(xmlBufferContent(buffer.get())));
}

// What a snapshot would have to do with this disk, and whether it can.
void classify(SnapshotDisk& disk, const std::string& type, const std::string& device, bool readonly, bool transient) {
    // CD-ROMs, floppies and read-only disks do not change: the snapshot leaves them be.
    if (device != "disk" || readonly || disk.source.empty())
        return;
    if (type != "file" && type != "block") {
        disk.problem = fmt::format("its disk {} is a '{}' disk, which libvirt cannot snapshot", disk.target, type);
        return;
    }
    if (transient) {
        disk.problem = fmt::format("its disk {} is transient (its changes are dropped at shutdown)", disk.target);
        return;
    }
    disk.covered = true;
}

} // namespace

std::vector<SnapshotDisk> snapshot_disks(std::string_view domain_xml, std::string* error) {
    std::vector<SnapshotDisk> disks;
    const xml::DocPtr doc = xml::parse(domain_xml);
    xmlNode* root = doc ? xmlDocGetRootElement(doc.get()) : nullptr;
    xmlNode* devices = root ? xml::child(root, "devices", std::nullopt) : nullptr;
    if (devices == nullptr) {
        if (error)
            *error = "its domain XML has no <devices>";
        return disks;
    }
    for (xmlNode* node = devices->children; node != nullptr; node = node->next) {
        if (!xml::is_element(node, "disk", std::nullopt))
            continue;
        SnapshotDisk disk;
        const xmlNode* target = xml::child(node, "target", std::nullopt);
        disk.target = target ? xml::attribute(target, "dev").value_or("") : "";
        xmlNode* source = xml::child(node, "source", std::nullopt);
        if (source != nullptr)
            disk.source = xml::attribute(source, "file").value_or(xml::attribute(source, "dev").value_or(""));
        // libvirt writes <encryption> inside <source>; older definitions have it beside it.
        xmlNode* encryption = source ? xml::child(source, "encryption", std::nullopt) : nullptr;
        if (encryption == nullptr)
            encryption = xml::child(node, "encryption", std::nullopt);
        if (encryption != nullptr)
            disk.encryption_xml = dump(doc.get(), encryption);
        const std::string type = xml::attribute(node, "type").value_or("file");
        // A network or volume disk has no file or dev: it still needs classifying.
        if (disk.source.empty() && source != nullptr && type != "file" && type != "block")
            disk.source = xml::attribute(source, "name").value_or(xml::attribute(source, "volume").value_or(type));
        classify(disk, type, xml::attribute(node, "device").value_or("disk"),
                 xml::child(node, "readonly", std::nullopt) != nullptr,
                 xml::child(node, "transient", std::nullopt) != nullptr);
        if (!disk.target.empty())
            disks.push_back(std::move(disk));
    }
    return disks;
}

std::string file_tag(std::string_view snapshot_name) {
    std::string tag;
    for (char c : snapshot_name) {
        const bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                          c == '_' || c == '-';
        tag += keep ? c : '-';
    }
    return tag;
}

std::string snapshot_request_xml(const std::string& name, const std::string& memory_file,
                                  const std::vector<SnapshotDisk>& disks) {
    std::string out = fmt::format("<domainsnapshot>\n  <name>{}</name>\n", xml::escape(name));
    if (memory_file.empty())
        out += "  <memory snapshot='no'/>\n";
    else
        out += fmt::format("  <memory snapshot='external' file='{}'/>\n", xml::escape(memory_file));
    out += "  <disks>\n";
    for (const SnapshotDisk& disk : disks) {
        if (!disk.covered) {
            // Explicitly: libvirt's default for a disk left out would be an overlay too.
            out += fmt::format("    <disk name='{}' snapshot='no'/>\n", xml::escape(disk.target));
            continue;
        }
        out += fmt::format("    <disk name='{}' snapshot='external' type='file'>\n"
                           "      <driver type='qcow2'/>\n      <source file='{}'>{}</source>\n    </disk>\n",
                           xml::escape(disk.target), xml::escape(disk.overlay), disk.encryption_xml);
    }
    return out + "  </disks>\n</domainsnapshot>\n";
}

std::vector<std::string> memory_blocking_devices(std::string_view domain_xml) {
    std::vector<std::string> found;
    const xml::DocPtr doc = xml::parse(domain_xml);
    xmlNode* root = doc ? xmlDocGetRootElement(doc.get()) : nullptr;
    xmlNode* devices = root ? xml::child(root, "devices", std::nullopt) : nullptr;
    for (xmlNode* node = devices ? devices->children : nullptr; node != nullptr; node = node->next) {
        if (!xml::is_element(node, "channel", std::nullopt) || xml::attribute(node, "type") != "qemu-vdagent")
            continue;
        if (xmlNode* alias = xml::child(node, "alias", std::nullopt)) {
            xmlUnlinkNode(alias);
            xmlFreeNode(alias);
        }
        found.push_back(dump(doc.get(), node));
    }
    return found;
}

std::vector<std::string> snapshot_file_paths(std::string_view snapshot_xml) {
    std::vector<std::string> files;
    const xml::DocPtr doc = xml::parse(snapshot_xml, "snapshot.xml");
    xmlNode* root = doc ? xmlDocGetRootElement(doc.get()) : nullptr;
    if (root == nullptr)
        return files;
    if (const xmlNode* memory = xml::child(root, "memory", std::nullopt))
        if (auto file = xml::attribute(memory, "file"); file && !file->empty())
            files.push_back(*file);
    const auto add_sources = [&files](const xmlNode* parent, bool hard_disks_only) {
        for (xmlNode* disk = parent ? parent->children : nullptr; disk != nullptr; disk = disk->next) {
            if (!xml::is_element(disk, "disk", std::nullopt) ||
                (hard_disks_only && xml::attribute(disk, "device").value_or("disk") != "disk"))
                continue;
            const xmlNode* source = xml::child(disk, "source", std::nullopt);
            if (auto file = source ? xml::attribute(source, "file") : std::nullopt; file && !file->empty())
                files.push_back(*file);
        }
    };
    add_sources(xml::child(root, "disks", std::nullopt), false);
    for (const char* name : {"domain", "inactiveDomain"})
        if (const xmlNode* domain = xml::child(root, name, std::nullopt))
            add_sources(xml::child(domain, "devices", std::nullopt), true);
    return files;
}

bool parse_snapshot_info(std::string_view snapshot_xml, SnapshotInfo& info) {
    const xml::DocPtr doc = xml::parse(snapshot_xml, "snapshot.xml");
    xmlNode* root = doc ? xmlDocGetRootElement(doc.get()) : nullptr;
    if (root == nullptr || !xml::is_element(root, "domainsnapshot", std::nullopt))
        return false;
    info.name = text_content(xml::child(root, "name", std::nullopt));
    info.description = text_content(xml::child(root, "description", std::nullopt));
    const xmlNode* parent = xml::child(root, "parent", std::nullopt);
    info.parent = parent ? text_content(xml::child(parent, "name", std::nullopt)) : std::string();
    const std::string created = text_content(xml::child(root, "creationTime", std::nullopt));
    info.created = 0;
    std::from_chars(created.data(), created.data() + created.size(), info.created);
    const std::string state = text_content(xml::child(root, "state", std::nullopt));
    // "disk-snapshot": disks only, of a guest that ran; reverting it boots the guest afresh.
    if (state == "shutoff" || state == "disk-snapshot" || state == "shutdown")
        info.state = "shut off";
    else
        info.state = state;
    return true;
}

} // namespace phyllome::guestview
