#include "guestview/jobs/import_policy.hpp"

#include <map>
#include <vector>

#include <fmt/format.h>

#include "guestview/xml_tree.hpp"

namespace phyllome::guestview {
namespace {

constexpr std::string_view qemu_namespace = "http://libvirt.org/schemas/domain/qemu/1.0";

bool is_named(const xmlNode* node, std::string_view name) {
    return node->type == XML_ELEMENT_NODE && xml::text_of(node->name) == name;
}

bool in_qemu_namespace(const xmlNode* node) {
    return node->type == XML_ELEMENT_NODE && node->ns != nullptr && node->ns->href != nullptr &&
           xml::text_of(node->ns->href) == qemu_namespace;
}

} // namespace

std::string foreign_domain_problem(std::string_view domain_xml) {
    xml::DocPtr doc = xml::parse(domain_xml);
    xmlNode* root = doc ? xmlDocGetRootElement(doc.get()) : nullptr;
    if (root == nullptr)
        return "its domain XML cannot be read";
    for (xmlNode* node = root->children; node != nullptr; node = node->next)
        if (in_qemu_namespace(node))
            return fmt::format("it passes arguments to QEMU directly (<qemu:{}>)", xml::text_of(node->name));
    xmlNode* devices = xml::child(root, "devices", std::nullopt);
    for (xmlNode* node = devices ? devices->children : nullptr; node != nullptr; node = node->next) {
        if (node->type != XML_ELEMENT_NODE)
            continue;
        const std::string_view name = xml::text_of(node->name);
        const std::string type = xml::attribute(node, "type").value_or("");
        if (name == "hostdev" || name == "filesystem")
            return fmt::format("it uses this host's devices or folders (<{}>)", name);
        if ((name == "smartcard" && xml::attribute(node, "mode").value_or("") == "host") ||
            (name == "redirdev" && type != "spicevmc"))
            return fmt::format("it uses this host's devices (<{}>)", name);
        if (name == "disk" && type != "file")
            return fmt::format("it has a disk of type '{}' (only file disks travel)", type);
    }
    return {};
}

std::string confined_domain_xml(std::string_view domain_xml, const std::string& log_dir, const std::string& name) {
    xml::DocPtr doc = xml::parse(domain_xml);
    xmlNode* root = doc ? xmlDocGetRootElement(doc.get()) : nullptr;
    xmlNode* devices = root ? xml::child(root, "devices", std::nullopt) : nullptr;
    if (devices == nullptr)
        return {};
    std::vector<xmlNode*> doomed;
    std::map<std::string, std::string> logs; // old path -> ours: a console mirroring serial0 keeps doing so
    auto confine = [&](xmlNode* node, const char* attribute) {
        const auto old = xml::attribute(node, attribute);
        if (!old)
            return;
        auto [it, added] = logs.emplace(*old, "");
        if (added)
            it->second = fmt::format("{}/{}-{}.log", log_dir, name, logs.size() - 1);
        xmlSetProp(node, xml::chars(attribute), xml::chars(it->second.c_str()));
    };
    for (xmlNode* node = devices->children; node != nullptr; node = node->next) {
        if (is_named(node, "disk")) {
            const std::string device = xml::attribute(node, "device").value_or("disk");
            if (device == "cdrom" || device == "floppy")
                for (xmlNode* child = node->children; child != nullptr; child = child->next)
                    if (is_named(child, "source"))
                        doomed.push_back(child);
            continue;
        }
        if (!is_named(node, "serial") && !is_named(node, "console") && !is_named(node, "channel") &&
            !is_named(node, "parallel"))
            continue;
        for (xmlNode* child = node->children; child != nullptr; child = child->next) {
            if (is_named(child, "log"))
                confine(child, "file");
            else if (is_named(child, "source") && xml::attribute(node, "type").value_or("") == "file")
                confine(child, "path");
        }
        // A device node or pipe of the archive's choosing: a pty instead.
        const std::string type = xml::attribute(node, "type").value_or("");
        if (type == "dev" || type == "pipe") {
            xmlSetProp(node, xml::chars("type"), xml::chars("pty"));
            for (xmlNode* child = node->children; child != nullptr; child = child->next)
                if (is_named(child, "source"))
                    doomed.push_back(child);
        }
    }
    for (xmlNode* node : doomed)
        xml::remove_element(node);
    return xml::serialise(doc.get());
}

} // namespace phyllome::guestview
