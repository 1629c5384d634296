#include "guestview/domain_adoption.hpp"

#include <array>
#include <memory>
#include <optional>
#include <vector>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "guestview/libvirt_handles.hpp"
#include "guestview/xml_tree.hpp"

namespace phyllome::guestview {
namespace {

using xml::attribute;
using xml::DocPtr;
using xml::remove_element;
using xml::serialise;

const xmlChar* xml_chars(const char* text) { return reinterpret_cast<const xmlChar*>(text); }

// The domain's own elements are in no namespace.
bool named(const xmlNode* node, std::string_view name) {
    return node != nullptr && xml::is_element(node, name, std::nullopt);
}
xmlNode* child(xmlNode* parent, std::string_view name) { return xml::child(parent, name, std::nullopt); }
std::vector<xmlNode*> children(xmlNode* parent, std::string_view name) {
    return xml::children(parent, name, std::nullopt);
}

bool has_attribute(const xmlNode* node, const char* name, std::string_view value) {
    return attribute(node, name) == value;
}

// What the old graphics said about OpenGL: 3D guests need it kept on the new display.
struct GlWish {
    bool enabled = false;
    std::optional<std::string> rendernode;
};

GlWish gl_of(const std::vector<xmlNode*>& graphics) {
    GlWish wish;
    for (xmlNode* device : graphics) {
        xmlNode* gl = child(device, "gl");
        // egl-headless is GL by definition; its <gl> only names the render node.
        const bool on = has_attribute(device, "type", "egl-headless") || (gl && has_attribute(gl, "enable", "yes"));
        if (!on)
            continue;
        wish.enabled = true;
        if (!wish.rendernode && gl)
            wish.rendernode = attribute(gl, "rendernode");
    }
    return wish;
}

// One D-Bus p2p display and nothing else: it carries its own GL setting already.
bool already_adopted(const std::vector<xmlNode*>& graphics) {
    return graphics.size() == 1 && has_attribute(graphics[0], "type", "dbus") && has_attribute(graphics[0], "p2p", "yes");
}

// Replaces every <graphics> by one D-Bus p2p display at the place of the first.
bool rewrite_graphics(xmlNode* devices, const GlWish& gl) {
    std::vector<xmlNode*> graphics = children(devices, "graphics");
    if (already_adopted(graphics))
        return false;
    xmlNode* display = xmlNewNode(nullptr, xml_chars("graphics"));
    xmlNewProp(display, xml_chars("type"), xml_chars("dbus"));
    xmlNewProp(display, xml_chars("p2p"), xml_chars("yes"));
    if (gl.enabled) {
        xmlNode* gl_node = xmlNewChild(display, nullptr, xml_chars("gl"), nullptr);
        xmlNewProp(gl_node, xml_chars("enable"), xml_chars("yes"));
        if (gl.rendernode)
            xmlNewProp(gl_node, xml_chars("rendernode"), xml_chars(gl.rendernode->c_str()));
    }
    if (graphics.empty()) {
        xmlAddChild(devices, display);
        return true;
    }
    xmlAddPrevSibling(graphics[0], display);
    for (xmlNode* old : graphics) {
        // Keep the indentation the first one had, now in front of the new element.
        if (old == graphics[0]) {
            xmlUnlinkNode(old);
            xmlFreeNode(old);
        } else {
            remove_element(old);
        }
    }
    return true;
}

xmlNode* primary_video(xmlNode* devices) {
    std::vector<xmlNode*> videos = children(devices, "video");
    for (xmlNode* video : videos)
        if (xmlNode* model = child(video, "model"); model && has_attribute(model, "primary", "yes"))
            return video;
    return videos.empty() ? nullptr : videos.front();
}

// Makes the primary video a virtio GPU: QEMU's D-Bus display shows any console, but only
// virtio-gpu gives resizing, several heads and 3D.
bool rewrite_video(xmlNode* devices, bool gl_kept) {
    xmlNode* video = primary_video(devices);
    if (video == nullptr) {
        // libvirt would add a default (VGA) one; choose ours.
        xmlNode* added = xmlNewChild(devices, nullptr, xml_chars("video"), nullptr);
        xmlNode* model = xmlNewChild(added, nullptr, xml_chars("model"), nullptr);
        xmlNewProp(model, xml_chars("type"), xml_chars("virtio"));
        xmlNewProp(model, xml_chars("heads"), xml_chars("1"));
        xmlNewProp(model, xml_chars("primary"), xml_chars("yes"));
        return true;
    }
    xmlNode* model = child(video, "model");
    if (model == nullptr)
        model = xmlNewChild(video, nullptr, xml_chars("model"), nullptr);
    bool changed = false;
    if (!has_attribute(model, "type", "virtio")) {
        xmlSetProp(model, xml_chars("type"), xml_chars("virtio"));
        changed = true;
    }
    // Sizes of qxl's and VGA's video memory, meaningless (or refused) for virtio.
    for (const char* name : {"vram", "vram64", "ram", "vgamem"})
        if (xmlAttr* attr = xmlHasProp(model, xml_chars(name))) {
            xmlRemoveProp(attr);
            changed = true;
        }
    // accel3d without a GL display stops the guest from starting.
    if (xmlNode* acceleration = child(model, "acceleration"); acceleration && !gl_kept) {
        remove_element(acceleration);
        changed = true;
    }
    return changed;
}

bool spice_only(const xmlNode* device) {
    const bool spice_source = has_attribute(device, "type", "spicevmc") || has_attribute(device, "type", "spiceport");
    return (named(device, "channel") || named(device, "redirdev") || named(device, "smartcard")) && spice_source;
}

// The guest's spice-vdagent port: a spicevmc channel named com.redhat.spice.0.
bool spice_agent_channel(xmlNode* device) {
    if (!named(device, "channel") || !has_attribute(device, "type", "spicevmc"))
        return false;
    xmlNode* target = child(device, "target");
    return target == nullptr || has_attribute(target, "name", "com.redhat.spice.0");
}

// QEMU's own vdagent on the same port, so the guest's agent still serves the clipboard
// (Host+C / Host+V) without a SPICE server.
xmlNode* qemu_vdagent_channel() {
    xmlNode* channel = xmlNewNode(nullptr, xml_chars("channel"));
    xmlSetProp(channel, xml_chars("type"), xml_chars("qemu-vdagent"));
    xmlNode* source = xmlNewChild(channel, nullptr, xml_chars("source"), nullptr);
    xmlSetProp(xmlNewChild(source, nullptr, xml_chars("clipboard"), nullptr), xml_chars("copypaste"), xml_chars("yes"));
    xmlSetProp(xmlNewChild(source, nullptr, xml_chars("mouse"), nullptr), xml_chars("mode"), xml_chars("client"));
    xmlNode* target = xmlNewChild(channel, nullptr, xml_chars("target"), nullptr);
    xmlSetProp(target, xml_chars("type"), xml_chars("virtio"));
    xmlSetProp(target, xml_chars("name"), xml_chars("com.redhat.spice.0"));
    return channel;
}

// Removes devices that need a SPICE server; an audio backend of type spice becomes 'dbus', so
// the sound card that names it by id plays through the shell (rewrite_display_audio); the SPICE agent
// channel becomes QEMU's vdagent.
bool rewrite_spice_devices(xmlNode* devices) {
    bool changed = false;
    std::vector<xmlNode*> doomed;
    bool has_qemu_vdagent = false;
    for (xmlNode* node = devices->children; node != nullptr; node = node->next)
        has_qemu_vdagent = has_qemu_vdagent || (named(node, "channel") && has_attribute(node, "type", "qemu-vdagent"));
    for (xmlNode* node = devices->children; node != nullptr; node = node->next) {
        if (!has_qemu_vdagent && spice_agent_channel(node)) {
            xmlAddPrevSibling(node, qemu_vdagent_channel());
            has_qemu_vdagent = true;
        }
        if (spice_only(node)) {
            doomed.push_back(node);
        } else if (named(node, "audio") && has_attribute(node, "type", "spice")) {
            xmlSetProp(node, xml_chars("type"), xml_chars("dbus"));
            changed = true;
        }
    }
    for (xmlNode* node : doomed)
        remove_element(node);
    return changed || !doomed.empty();
}

// The D-Bus display carries the guest's D-Bus audio backend (<audio id='N'/>): QEMU serves the
// guest's sound on the display's connection only when the display names it.
bool rewrite_display_audio(xmlNode* devices) {
    std::string id;
    for (xmlNode* audio : children(devices, "audio"))
        if (has_attribute(audio, "type", "dbus")) {
            id = attribute(audio, "id").value_or("");
            break;
        }
    std::vector<xmlNode*> graphics = children(devices, "graphics");
    if (id.empty() || graphics.empty() || !has_attribute(graphics[0], "type", "dbus") || child(graphics[0], "audio"))
        return false;
    xmlNode* link = xmlNewChild(graphics[0], nullptr, xml_chars("audio"), nullptr);
    xmlNewProp(link, xml_chars("id"), xml_chars(id.c_str()));
    return true;
}

} // namespace

std::string adopt_domain_xml(std::string_view domain_xml, std::string& error) {
    DocPtr doc = xml::parse(domain_xml);
    xmlNode* root = doc ? xmlDocGetRootElement(doc.get()) : nullptr;
    if (root == nullptr || !named(root, "domain")) {
        error = "not a libvirt domain definition";
        return {};
    }
    xmlNode* devices = child(root, "devices");
    if (devices == nullptr)
        devices = xmlNewChild(root, nullptr, xml_chars("devices"), nullptr);

    const GlWish gl = gl_of(children(devices, "graphics"));
    bool changed = rewrite_graphics(devices, gl);
    changed = rewrite_video(devices, gl.enabled) || changed;
    changed = rewrite_spice_devices(devices) || changed;
    changed = rewrite_display_audio(devices) || changed;
    if (!changed)
        return std::string{domain_xml}; // byte for byte: nothing to do

    std::string out = serialise(doc.get());
    if (out.empty())
        error = "cannot write the rewritten definition";
    return out;
}

} // namespace phyllome::guestview

// The libvirt side, on the worker thread.
namespace phyllome::guestview {

std::string adopt_guest(virConnectPtr connection, const std::string& guest) {
    DomainPtr domain{virDomainLookupByName(connection, guest.c_str())};
    if (!domain)
        return last_libvirt_error();
    // Defining a transient guest would make it persistent behind the user's back.
    if (virDomainIsPersistent(domain.get()) == 0)
        return "the guest is transient: it has no definition to change";
    // The inactive definition is what the next start uses; SECURE keeps passwords (e.g. a VNC
    // password elsewhere in it) instead of losing them on redefinition.
    LibvirtString xml{virDomainGetXMLDesc(domain.get(), VIR_DOMAIN_XML_INACTIVE | VIR_DOMAIN_XML_SECURE)};
    if (!xml)
        return last_libvirt_error();
    std::string error;
    const std::string adopted = adopt_domain_xml(xml.get(), error);
    if (adopted.empty())
        return error;
    if (adopted == xml.get())
        return {};
    // VALIDATE: a definition libvirt's schema refuses fails here, not at the next start.
    DomainPtr defined{virDomainDefineXMLFlags(connection, adopted.c_str(), VIR_DOMAIN_DEFINE_VALIDATE)};
    return defined ? std::string{} : last_libvirt_error();
}

} // namespace phyllome::guestview
