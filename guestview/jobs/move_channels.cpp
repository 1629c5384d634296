#include "guestview/jobs/move_channels.hpp"

#include <cstring>
#include <memory>

#include <fmt/format.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "guestview/libvirt_handles.hpp"

namespace phyllome::guestview {
namespace {

struct DocFreer {
    void operator()(xmlDoc* doc) const { xmlFreeDoc(doc); }
};
struct BufferFreer {
    void operator()(xmlBuffer* buffer) const { xmlBufferFree(buffer); }
};

bool named(const xmlNode* node, std::string_view name) {
    return node != nullptr && node->type == XML_ELEMENT_NODE && name == reinterpret_cast<const char*>(node->name);
}

bool has_type(xmlNode* node, std::string_view type) {
    xmlChar* value = xmlGetNoNsProp(node, reinterpret_cast<const xmlChar*>("type"));
    const bool same = value != nullptr && type == reinterpret_cast<const char*>(value);
    xmlFree(value);
    return same;
}

} // namespace

std::vector<std::string> unmigratable_channels(const char* domain_xml) {
    std::vector<std::string> channels;
    std::unique_ptr<xmlDoc, DocFreer> doc{xmlReadMemory(domain_xml, static_cast<int>(std::strlen(domain_xml)),
                                                        "domain.xml", nullptr, XML_PARSE_NONET)};
    xmlNode* root = doc ? xmlDocGetRootElement(doc.get()) : nullptr;
    xmlNode* devices = nullptr;
    for (xmlNode* node = root ? root->children : nullptr; node != nullptr && devices == nullptr; node = node->next)
        if (named(node, "devices"))
            devices = node;
    for (xmlNode* node = devices ? devices->children : nullptr; node != nullptr; node = node->next) {
        if (!named(node, "channel") || !has_type(node, "qemu-vdagent"))
            continue;
        std::unique_ptr<xmlBuffer, BufferFreer> buffer{xmlBufferCreate()};
        if (buffer && xmlNodeDump(buffer.get(), doc.get(), node, 0, 0) > 0)
            channels.emplace_back(reinterpret_cast<const char*>(xmlBufferContent(buffer.get())));
    }
    return channels;
}

std::string unplug_channels(virDomainPtr domain, const std::vector<std::string>& channels) {
    for (std::size_t i = 0; i < channels.size(); ++i) {
        if (virDomainDetachDeviceFlags(domain, channels[i].c_str(), VIR_DOMAIN_AFFECT_LIVE) < 0) {
            std::string error = fmt::format("cannot unplug its clipboard channel for the move: {}", last_libvirt_error());
            plug_channels(domain, {channels.begin(), channels.begin() + static_cast<std::ptrdiff_t>(i)});
            return error;
        }
    }
    return {};
}

std::string plug_channels(virDomainPtr domain, const std::vector<std::string>& channels) {
    std::string problems;
    for (const std::string& channel : channels)
        if (virDomainAttachDeviceFlags(domain, channel.c_str(), VIR_DOMAIN_AFFECT_LIVE) < 0)
            problems += fmt::format("{}cannot plug its clipboard channel in again: {}", problems.empty() ? "" : "; ",
                                    last_libvirt_error());
    return problems;
}

} // namespace phyllome::guestview
