#include "guestview/guest_plan.hpp"

#include <sys/statvfs.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <memory>

#include <fmt/format.h>
#include <libvirt/libvirt.h>
#include <libxml/parser.h>
#include <libxml/xpath.h>

#include "guestview/libvirt_handles.hpp"
#include "guestview/xml_tree.hpp"

namespace phyllome::guestview {
namespace {

struct XPathContextFree {
    void operator()(xmlXPathContext* context) const { xmlXPathFreeContext(context); }
};
struct XPathObjectFree {
    void operator()(xmlXPathObject* object) const { xmlXPathFreeObject(object); }
};

// Whether `xml` has a node `xpath` selects.
bool xml_has(const std::string& text, const char* xpath) {
    xml::DocPtr doc = xml::parse(text, "caps.xml");
    if (!doc)
        return false;
    std::unique_ptr<xmlXPathContext, XPathContextFree> context{xmlXPathNewContext(doc.get())};
    std::unique_ptr<xmlXPathObject, XPathObjectFree> found{
        context ? xmlXPathEvalExpression(reinterpret_cast<const xmlChar*>(xpath), context.get()) : nullptr};
    return found && found->nodesetval != nullptr && found->nodesetval->nodeNr > 0;
}

constexpr const char* missing_database = "the operating system database is missing (osinfo-db)";

std::string domain_capabilities(virConnectPtr connection, const char* virttype) {
    LibvirtString caps{virConnectGetDomainCapabilities(connection, nullptr, "x86_64", "q35", virttype, 0)};
    if (!caps) {
        virResetLastError();
        return {};
    }
    return caps.get();
}

std::string user_home() {
    const char* home = std::getenv("HOME");
    return home != nullptr ? home : "";
}

std::string user_data_home() {
    const char* data = std::getenv("XDG_DATA_HOME");
    return data != nullptr && *data == '/' ? data : user_home() + "/.local/share";
}

// The first virtio-win*.iso in `dir`, by name (a newer version sorts later: take the last).
std::string virtio_win_in(const std::string& place) {
    namespace fs = std::filesystem;
    std::error_code ec;
    if (fs::is_regular_file(place, ec))
        return place;
    std::string best;
    for (const auto& entry : fs::directory_iterator(place, ec)) {
        const std::string name = entry.path().filename().string();
        if (name.starts_with("virtio-win") && name.ends_with(".iso") && entry.is_regular_file(ec))
            best = std::max(best, entry.path().string());
    }
    return best;
}

int disk_free_gb(const std::string& dir) {
    struct statvfs fs {};
    if (statvfs(dir.c_str(), &fs) != 0)
        return -1;
    return static_cast<int>(static_cast<unsigned long long>(fs.f_bavail) * fs.f_frsize / (1024ull * 1024 * 1024));
}

ModelHost probe_host(virConnectPtr connection, GuestNetwork network, const GuestSpec& spec) {
    ModelHost host;
    // libvirt's 'default' NAT network where the connection has one (a system daemon usually
    // does); else QEMU's user-mode networking, which needs no privileges (the embedded driver).
    host.network = network;
    if (network == GuestNetwork::LibvirtDefault) {
        if (virNetworkPtr found = virNetworkLookupByName(connection, "default"))
            virNetworkFree(found);
        else {
            host.network = GuestNetwork::User;
            virResetLastError();
        }
    }
    const std::string kvm_caps = spec.allow_kvm ? domain_capabilities(connection, "kvm") : std::string{};
    host.kvm = !kvm_caps.empty();
    const std::string caps = host.kvm ? kvm_caps : domain_capabilities(connection, "qemu");
    // libvirt lists the emulator backend only when it found swtpm.
    host.tpm = xml_has(caps, "/domainCapabilities/devices/tpm[@supported='yes']/enum[@name='backendModel']"
                             "/value[text()='emulator']");
    host.secure_boot = xml_has(caps, "/domainCapabilities/os/loader[@supported='yes']/enum[@name='secure']"
                                     "/value[text()='yes']");
    for (const std::string& place : virtio_win_places(spec.iso_path)) {
        host.virtio_win_searched.push_back(place);
        if (host.virtio_win.empty())
            host.virtio_win = virtio_win_in(place);
    }
    // The embedded driver (libvirt 11.3) keeps none: see disk_secret.cpp.
    if (virConnectNumOfSecrets(connection) < 0) {
        host.secrets = false;
        virResetLastError();
    }
    host.free_disk_gb = disk_free_gb(spec.disk_dir);
    virNodeInfo node{};
    if (virNodeGetInfo(connection, &node) == 0)
        host.host_memory_mb = static_cast<int>(node.memory / 1024);
    else
        virResetLastError();
    return host;
}

} // namespace

std::vector<std::string> virtio_win_places(const std::string& installer_iso) {
    std::vector<std::string> places{"/usr/share/virtio-win/virtio-win.iso"};
    if (!installer_iso.empty())
        places.push_back(std::filesystem::path(installer_iso).parent_path().string());
    if (const std::string home = user_home(); !home.empty())
        places.push_back(home + "/Downloads");
    places.push_back(user_data_home() + "/phyllome/isos");
    places.push_back("/var/lib/libvirt/images");
    places.erase(std::unique(places.begin(), places.end()), places.end());
    return places;
}

GuestPlan plan_guest(virConnectPtr connection, GuestSpec spec, GuestNetwork network, const OsDatabase* db,
                     const std::string& db_error) {
    GuestPlan plan;
    plan.spec = std::move(spec);
    GuestSpec& s = plan.spec;
    if (plan.problem = guest_spec_problem(s); !plan.problem.empty())
        return plan;

    if (!s.os_id.empty()) {
        std::optional<OsProfile> forced = db != nullptr ? db->find(s.os_id) : std::nullopt;
        if (!forced) {
            plan.problem = db != nullptr ? fmt::format("libosinfo knows no operating system '{}' (osinfo-query os "
                                                       "lists them)",
                                                       s.os_id)
                                         : (db_error.empty() ? missing_database : db_error);
            return plan;
        }
        plan.os = std::move(*forced);
    } else if (db != nullptr) {
        InstallerIdentity identity = db->identify(s.iso_path);
        if (!identity.problem.empty()) {
            plan.problem = std::move(identity.problem);
            return plan;
        }
        plan.volume_id = std::move(identity.volume_id);
        if (identity.os)
            plan.os = std::move(*identity.os);
    }

    plan.host = probe_host(connection, network, s);
    plan.model = choose_model(plan.os, plan.host);
    if (db == nullptr && s.os_id.empty())
        plan.model.notes.push_back(db_error.empty() ? missing_database : db_error);
    if (!plan.model.problem.empty()) {
        plan.problem = plan.model.problem;
        return plan;
    }

    const OsResources defaults = default_resources(plan.os, plan.host);
    if (s.memory_mb == 0)
        s.memory_mb = defaults.memory_mb;
    if (s.cpus == 0)
        s.cpus = defaults.cpus;
    if (s.disk_size_gb == 0)
        s.disk_size_gb = defaults.disk_gb;
    if (plan.os.minimum.memory_mb > 0 && s.memory_mb < plan.os.minimum.memory_mb)
        plan.model.notes.push_back(fmt::format("{} MB is below the {} MB {} needs", s.memory_mb,
                                               plan.os.minimum.memory_mb, plan.os.name));
    if (plan.os.minimum.disk_gb > 0 && s.disk_size_gb < plan.os.minimum.disk_gb)
        plan.model.notes.push_back(fmt::format("a {} GB disk is below the {} GB {} needs", s.disk_size_gb,
                                               plan.os.minimum.disk_gb, plan.os.name));
    // The qcow2 starts small but grows as the guest writes: refuse a disk that cannot fit.
    if (const int free_gb = plan.host.free_disk_gb; free_gb >= 0 && free_gb < s.disk_size_gb) {
        plan.disk_too_big = true;
        plan.problem = fmt::format("only {} GB are free in {}, and the disk may grow to {} GB: choose a smaller disk "
                                   "or free some space",
                                   free_gb, s.disk_dir, s.disk_size_gb);
    }
    return plan;
}

namespace {

std::vector<std::string> features_of(const MachineModel& model, const GuestSpec& spec) {
    std::vector<std::string> parts;
    if (model.uefi)
        parts.push_back(model.secure_boot ? "UEFI with Secure Boot" : "UEFI");
    else
        parts.push_back("BIOS");
    if (model.tpm)
        parts.push_back("TPM 2.0");
    if (spec.heads > 1) // a head per host output
        parts.push_back(fmt::format("{} screens", spec.heads));
    return parts;
}

} // namespace

std::string GuestPlan::summary() const {
    std::string text = os_display_name(os);
    if (os.recognised())
        text += fmt::format(" ({})", os.id);
    text += fmt::format(": {} MB, {} CPU{}, {} GB disk", spec.memory_mb, spec.cpus, spec.cpus == 1 ? "" : "s",
                        spec.disk_size_gb);
    std::vector<std::string> parts = features_of(model, spec);
    if (!host.kvm)
        parts.push_back("no KVM: software emulation, slow");
    parts.insert(parts.end(), model.notes.begin(), model.notes.end());
    for (const std::string& part : parts)
        text += "; " + part;
    return text;
}

PlanView GuestPlan::view() const {
    PlanView v;
    // The card weighs the disk against free_disk_gb itself, as the user changes its size.
    v.problem = disk_too_big ? std::string{} : problem;
    v.os_name = os_display_name(os);
    v.os_id = os.id;
    v.memory_mb = spec.memory_mb;
    v.cpus = spec.cpus;
    v.disk_gb = spec.disk_size_gb;
    v.min_memory_mb = os.minimum.memory_mb;
    v.min_disk_gb = os.minimum.disk_gb;
    v.free_disk_gb = host.free_disk_gb;
    v.features = features_of(model, spec);
    v.notes = model.notes;
    // Never silently off: the card says which.
    if (spec.encrypt_disk && host.secrets)
        v.features.push_back("encrypted disk");
    else if (spec.encrypt_disk)
        v.notes.push_back("the disk will not be encrypted: this libvirt connection keeps no secrets QEMU could use");
    if (!host.kvm)
        v.notes.push_back("no KVM: software emulation, slow");
    return v;
}

} // namespace phyllome::guestview
