// libxml2 for reading and rewriting libvirt's XML: owning handles and the few lookups every
// reader of a domain needs (elements by name and namespace URI, attributes).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlsave.h>

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

inline const xmlChar* chars(const char* text) { return reinterpret_cast<const xmlChar*>(text); }

// `text` for XML text or an attribute value in either quotes.
inline std::string escape(std::string_view text) {
    std::string out;
    for (char c : text) {
        switch (c) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '\'': out += "&apos;"; break;
        case '"': out += "&quot;"; break;
        default: out += c;
        }
    }
    return out;
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

inline std::vector<xmlNode*> children(const xmlNode* parent, std::string_view name, std::optional<std::string_view> ns) {
    std::vector<xmlNode*> found;
    for (xmlNode* node = parent->children; node != nullptr; node = node->next)
        if (is_element(node, name, ns))
            found.push_back(node);
    return found;
}

inline std::optional<std::string> attribute(const xmlNode* node, const char* name) {
    StringPtr value{xmlGetNoNsProp(node, reinterpret_cast<const xmlChar*>(name))};
    if (!value)
        return std::nullopt;
    return std::string{text_of(value.get())};
}

// The text inside `node` (empty for none or a null node).
inline std::string text(const xmlNode* node) {
    StringPtr content{node != nullptr ? xmlNodeGetContent(node) : nullptr};
    return content ? std::string{text_of(content.get())} : std::string{};
}

// Removes `node` with the indentation before it, so no blank line is left where it was.
inline void remove_element(xmlNode* node) {
    if (xmlNode* before = node->prev; before != nullptr && before->type == XML_TEXT_NODE && xmlIsBlankNode(before)) {
        xmlUnlinkNode(before);
        xmlFreeNode(before);
    }
    xmlUnlinkNode(node);
    xmlFreeNode(node);
}

// The document as libvirt takes it (UTF-8, no XML declaration); empty on failure.
inline std::string serialise(xmlDoc* doc) {
    BufferPtr buffer{xmlBufferCreate()};
    xmlSaveCtxt* save = buffer ? xmlSaveToBuffer(buffer.get(), "UTF-8", XML_SAVE_NO_DECL) : nullptr;
    if (save == nullptr)
        return {};
    xmlSaveDoc(save, doc);
    xmlSaveClose(save); // flushes into the buffer
    return {reinterpret_cast<const char*>(xmlBufferContent(buffer.get())),
            static_cast<std::size_t>(xmlBufferLength(buffer.get()))};
}

} // namespace phyllome::guestview::xml
