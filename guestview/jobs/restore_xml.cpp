#include "guestview/jobs/restore_xml.hpp"

#include <algorithm>
#include <memory>
#include <vector>

#include <fmt/format.h>

#include "guestview/xml_tree.hpp"

namespace phyllome::guestview {
namespace {

void set_text(xmlNode* node, const std::string& text) {
    xml::StringPtr escaped{xmlEncodeSpecialChars(node->doc, xml::chars(text.c_str()))};
    xmlNodeSetContent(node, escaped.get());
}

xmlNode* ensure_child(xmlNode* parent, const char* name) {
    if (xmlNode* found = xml::child(parent, name, std::nullopt))
        return found;
    return xmlNewChild(parent, nullptr, xml::chars(name), nullptr);
}

void remove_children(xmlNode* parent, const char* name) {
    for (xmlNode* node : xml::children(parent, name, std::nullopt))
        xml::remove_element(node);
}

} // namespace

std::string restored_domain_xml(std::string_view text, const RestoredPlaces& places, std::string& error) {
    xml::DocPtr doc = xml::parse(text);
    xmlNode* root = doc ? xmlDocGetRootElement(doc.get()) : nullptr;
    if (root == nullptr || !xml::is_element(root, "domain", std::nullopt)) {
        error = "the backed-up domain XML cannot be read";
        return {};
    }
    set_text(ensure_child(root, "name"), places.name);
    set_text(ensure_child(root, "uuid"), places.uuid);
    if (xmlNode* os = xml::child(root, "os", std::nullopt)) {
        xmlNode* nvram = xml::child(os, "nvram", std::nullopt);
        if (nvram != nullptr && !places.nvram.empty())
            set_text(nvram, places.nvram);
        if (places.reselect_firmware && xml::attribute(os, "firmware").value_or("") == "efi") {
            if (xmlNode* loader = xml::child(os, "loader", std::nullopt))
                xmlNodeSetContent(loader, nullptr);
            if (nvram != nullptr) {
                xmlUnsetProp(nvram, xml::chars("template"));
                xmlUnsetProp(nvram, xml::chars("templateFormat"));
            }
        }
    }
    xmlNode* devices = xml::child(root, "devices", std::nullopt);
    for (xmlNode* node = devices ? devices->children : nullptr; node != nullptr; node = node->next) {
        if (xml::is_element(node, "tpm", std::nullopt)) {
            // A state folder of the old host's choosing would be shared or missing here.
            if (xmlNode* backend = xml::child(node, "backend", std::nullopt))
                remove_children(backend, "source");
            continue;
        }
        if (!xml::is_element(node, "disk", std::nullopt) || xml::attribute(node, "type").value_or("") != "file")
            continue;
        xmlNode* source = xml::child(node, "source", std::nullopt);
        xmlNode* target = xml::child(node, "target", std::nullopt);
        if (xml::attribute(node, "device").value_or("disk") != "disk") {
            const std::string dev = target ? xml::attribute(target, "dev").value_or("") : "";
            if (std::ranges::find(places.eject, dev) != places.eject.end())
                remove_children(node, "source");
            continue;
        }
        if (source == nullptr || target == nullptr || !xml::attribute(source, "file"))
            continue;
        const std::string dev = xml::attribute(target, "dev").value_or("");
        const auto place = places.disks.find(dev);
        if (place == places.disks.end()) {
            error = fmt::format("the backup holds no copy of disk {}", dev);
            return {};
        }
        xmlSetProp(source, xml::chars("file"), xml::chars(place->second.path.c_str()));
        xmlSetProp(ensure_child(node, "driver"), xml::chars("type"), xml::chars(place->second.format.c_str()));
        // The copy is whole: no backing chain.
        remove_children(node, "backingStore");
    }
    std::string out = xml::serialise(doc.get());
    if (out.empty())
        error = "cannot write the restored domain XML";
    return out;
}

} // namespace phyllome::guestview
