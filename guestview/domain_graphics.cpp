#include "guestview/domain_graphics.hpp"

#include <algorithm>
#include <memory>
#include <vector>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "guestview/xml_tree.hpp"

namespace phyllome::guestview {
namespace {

using xml::DocPtr;
using XmlStringFreer = xml::StringFreer;

constexpr std::string_view wanted = "needs <graphics type='dbus' p2p='yes'/>";

bool named(const xmlNode* node, std::string_view name) {
    return node->type == XML_ELEMENT_NODE && node->ns == nullptr &&
           name == reinterpret_cast<const char*>(node->name);
}

const xmlNode* child(const xmlNode* parent, std::string_view name) {
    for (const xmlNode* node = parent->children; node != nullptr; node = node->next)
        if (named(node, name))
            return node;
    return nullptr;
}

std::string attribute(const xmlNode* node, const char* name) {
    std::unique_ptr<xmlChar, XmlStringFreer> value{
        xmlGetNoNsProp(node, reinterpret_cast<const xmlChar*>(name))};
    return value ? std::string{reinterpret_cast<const char*>(value.get())} : std::string{};
}

std::string display_name(const std::string& type, const std::string& p2p) {
    if (type == "spice")
        return "SPICE";
    if (type == "vnc")
        return "VNC";
    if (type == "dbus")
        return "D-Bus (without p2p='yes')";
    if (type.empty())
        return "untyped";
    return type;
}

std::string join_kinds(const std::vector<std::string>& kinds) {
    std::string joined;
    for (std::size_t i = 0; i < kinds.size(); ++i) {
        if (i > 0)
            joined += i + 1 == kinds.size() ? " and " : ", ";
        joined += kinds[i];
    }
    return joined;
}

} // namespace

GraphicsInfo graphics_from_domain_xml(std::string_view xml) {
    DocPtr doc{xmlReadMemory(xml.data(), static_cast<int>(xml.size()), "domain.xml", nullptr,
                             XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING)};
    const xmlNode* root = doc ? xmlDocGetRootElement(doc.get()) : nullptr;
    if (root == nullptr || !named(root, "domain"))
        return {GraphicsSupport::None, -1, "its configuration could not be read"};

    const xmlNode* devices = child(root, "devices");
    std::vector<std::string> kinds; // distinct, in document order
    int index = 0;
    for (const xmlNode* node = devices ? devices->children : nullptr; node != nullptr; node = node->next) {
        if (!named(node, "graphics"))
            continue;
        const std::string type = attribute(node, "type");
        const std::string p2p = attribute(node, "p2p");
        if (type == "dbus" && p2p == "yes")
            return {GraphicsSupport::DbusP2P, index, ""};
        std::string kind = display_name(type, p2p);
        if (std::find(kinds.begin(), kinds.end(), kind) == kinds.end())
            kinds.push_back(std::move(kind));
        ++index;
    }
    if (kinds.empty())
        return {GraphicsSupport::None, -1, std::string{"has no graphics device; "} + std::string{wanted}};
    return {GraphicsSupport::Unsupported, -1,
            "uses " + join_kinds(kinds) + " graphics; " + std::string{wanted}};
}

} // namespace phyllome::guestview
