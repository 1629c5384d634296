#include "guestview/installer_media.hpp"

#include <algorithm>
#include <charconv>
#include <memory>

#include <fmt/format.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "config/log.hpp"
#include "guestview/xml_tree.hpp"

namespace phyllome::guestview {
namespace {

using namespace xml;

// /domain/<name> of a parsed domain XML, or nullptr.
xmlNode* domain_child(xmlDoc* doc, std::string_view name) {
    xmlNode* root = doc ? xmlDocGetRootElement(doc) : nullptr;
    return root && is_element(root, "domain", std::nullopt) ? child(root, name, std::nullopt) : nullptr;
}

std::optional<int> parse_reboots(std::string_view text) {
    int reboots = 0;
    const char* end = text.data() + text.size();
    auto [stop, error] = std::from_chars(text.data(), end, reboots);
    if (text.empty() || error != std::errc() || stop != end || reboots < 1 || reboots > max_installer_reboots)
        return std::nullopt;
    return reboots;
}

// A disk target as libvirt names them: sda, hdc, vdb, xvda.
bool valid_target(std::string_view target) {
    return !target.empty() && target.size() <= 16 && std::ranges::all_of(target, [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    }) && target[0] >= 'a';
}

std::string element(std::string_view xmlns, int reboots, std::string_view target) {
    return fmt::format("<installer{} reboots=\"{}\" target=\"{}\"/>", xmlns, reboots, target);
}

template <typename Visit>
void for_each_cdrom(xmlNode* devices, Visit visit) {
    for (xmlNode* disk = devices ? devices->children : nullptr; disk != nullptr; disk = disk->next) {
        if (!is_element(disk, "disk", std::nullopt) || attribute(disk, "device") != "cdrom")
            continue;
        const xmlNode* target = child(disk, "target", std::nullopt);
        if (std::optional<std::string> dev = target ? attribute(target, "dev") : std::nullopt)
            visit(disk, *dev);
    }
}

// What the disk holds, or empty.
std::string media_of(const xmlNode* disk) {
    const xmlNode* source = child(disk, "source", std::nullopt);
    if (source == nullptr)
        return {};
    for (const char* name : {"file", "volume", "dev", "name"})
        if (std::optional<std::string> value = attribute(source, name); value && !value->empty())
            return *value;
    return {};
}

} // namespace

bool reset_by_guest(std::string_view details) {
    // The one boolean member is all we need; no JSON library for it.
    constexpr std::string_view key = "\"guest\"";
    const std::size_t at = details.find(key);
    if (at == std::string_view::npos)
        return false;
    std::string_view rest = details.substr(at + key.size());
    const std::size_t value = rest.find_first_not_of(" \t\r\n:");
    return value != std::string_view::npos && rest.substr(value).starts_with("true") &&
           rest.substr(0, value).find(':') != std::string_view::npos;
}

std::string installer_element(int reboots, std::string_view target) {
    return element(fmt::format(" xmlns=\"{}\"", installer_namespace), reboots, target);
}

std::string installer_metadata_element(int reboots, std::string_view target) { return element("", reboots, target); }

std::optional<InstallerMedia> installer_from_domain_xml(std::string_view xml, std::string_view guest) {
    DocPtr doc = parse(xml);
    const xmlNode* metadata = domain_child(doc.get(), "metadata");
    const xmlNode* node = metadata ? child(metadata, "installer", installer_namespace) : nullptr;
    if (node == nullptr)
        return std::nullopt;
    // Someone may have edited the XML by hand: a bad value is ignored, never fatal.
    InstallerMedia media;
    const std::optional<std::string> reboots = attribute(node, "reboots");
    media.reboots = reboots ? parse_reboots(*reboots) : std::nullopt;
    if (!media.reboots)
        log::debug("guest '{}': ignoring installer reboots=\"{}\": not an integer from 1 to {}; only a manual "
                   "eject removes it",
                   guest, reboots.value_or(""), max_installer_reboots);
    const std::optional<std::string> target = attribute(node, "target");
    if (target && valid_target(*target))
        media.target = *target;
    else
        log::debug("guest '{}': ignoring installer target=\"{}\": not a disk target like \"sda\"", guest,
                   target.value_or(""));
    return media;
}

std::vector<CdromMedia> cdroms_with_media(std::string_view xml) {
    DocPtr doc = parse(xml);
    std::vector<CdromMedia> found;
    for_each_cdrom(domain_child(doc.get(), "devices"), [&](const xmlNode* disk, const std::string& dev) {
        if (std::string media = media_of(disk); !media.empty())
            found.push_back({dev, std::move(media)});
    });
    return found;
}

std::optional<std::string> emptied_cdrom_xml(std::string_view xml, std::string_view target) {
    DocPtr doc = parse(xml);
    xmlNode* found = nullptr;
    for_each_cdrom(domain_child(doc.get(), "devices"), [&](xmlNode* disk, const std::string& dev) {
        if (found == nullptr && dev == target)
            found = disk;
    });
    if (found == nullptr)
        return std::nullopt;
    // As `virsh change-media --eject` does: the device as it is, without its medium.
    for (xmlNode* source; (source = child(found, "source", std::nullopt)) != nullptr;) {
        xmlUnlinkNode(source);
        xmlFreeNode(source);
    }
    if (xmlNode* backing = child(found, "backingStore", std::nullopt)) {
        xmlUnlinkNode(backing);
        xmlFreeNode(backing);
    }
    std::unique_ptr<xmlBuffer, BufferFreer> buffer{xmlBufferCreate()};
    if (!buffer || xmlNodeDump(buffer.get(), doc.get(), found, 0, 0) < 0)
        return std::nullopt;
    return std::string{text_of(xmlBufferContent(buffer.get()))};
}

} // namespace phyllome::guestview
