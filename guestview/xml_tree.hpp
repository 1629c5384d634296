// libxml2 for reading and rewriting libvirt's XML: owning handles and the few lookups every
// reader of a domain needs (elements by name and namespace URI, attributes).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <libxml/parser.h>
#include <libxml/tree.h>

namespace phyllome::guestview::xml {

struct DocFreer {
    void operator()(xmlDoc* doc) const { xmlFreeDoc(doc); }
};
using DocPtr = std::unique_ptr<xmlDoc, DocFreer>;

struct StringFreer {
    void operator()(xmlChar* text) const { xmlFree(text); }
};
using StringPtr = std::unique_ptr<xmlChar, StringFreer>;

struct BufferFreer {
    void operator()(xmlBuffer* buffer) const { xmlBufferFree(buffer); }
};
using BufferPtr = std::unique_ptr<xmlBuffer, BufferFreer>;

inline std::string_view text_of(const xmlChar* text) { return reinterpret_cast<const char*>(text); }

// Never from the network, and quiet: a bad document is the caller's to report.
inline DocPtr parse(std::string_view text, const char* name = "domain.xml") {
    return DocPtr{xmlReadMemory(text.data(), static_cast<int>(text.size()), name, nullptr,
                                XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING)};
}

// `ns`: the namespace URI, or nullopt for an element in no namespace.
inline bool is_element(const xmlNode* node, std::string_view name, std::optional<std::string_view> ns) {
    if (node->type != XML_ELEMENT_NODE || text_of(node->name) != name)
        return false;
    if (!ns)
        return node->ns == nullptr;
    // By namespace URI, never by prefix: whoever wrote the element chose the prefix.
    return node->ns != nullptr && node->ns->href != nullptr && text_of(node->ns->href) == *ns;
}

inline xmlNode* child(const xmlNode* parent, std::string_view name, std::optional<std::string_view> ns) {
    for (xmlNode* node = parent->children; node != nullptr; node = node->next)
        if (is_element(node, name, ns))
            return node;
    return nullptr;
}

inline std::optional<std::string> attribute(const xmlNode* node, const char* name) {
    StringPtr value{xmlGetNoNsProp(node, reinterpret_cast<const xmlChar*>(name))};
    if (!value)
        return std::nullopt;
    return std::string{text_of(value.get())};
}

} // namespace phyllome::guestview::xml
