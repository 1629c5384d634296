#include "guestview/jobs/guest_move.hpp"

#include <chrono>
#include <optional>
#include <vector>

#include <fmt/format.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "config/log.hpp"
#include "guestview/jobs/move_channels.hpp"
#include "guestview/jobs/move_storage.hpp"
#include "guestview/libvirt_handles.hpp"

namespace phyllome::guestview {
namespace {

using Clock = std::chrono::steady_clock;

// Why the destination did not answer, in words that say what to check.
std::string connect_problem(const std::string& uri, const std::string& label) {
    const int code = virGetLastErrorCode();
    const std::string message = last_libvirt_error();
    auto says = [&](std::string_view what) { return message.find(what) != std::string::npos; };
    if (code == VIR_ERR_AUTH_FAILED || code == VIR_ERR_AUTH_CANCELLED || code == VIR_ERR_AUTH_UNAVAILABLE ||
        says("Permission denied") || says("authentication"))
        return fmt::format("{} refused the connection ({}): check that your user may use libvirt there (its ssh "
                           "key, its polkit rules)",
                           label, message);
    if (says("Host key verification failed"))
        return fmt::format("{} has an ssh host key this user has not accepted ({}): connect once with ssh "
                           "to check and accept it",
                           label, message);
    if (says("Connection refused") || says("No such file or directory") || says("Failed to connect socket"))
        return fmt::format("no libvirt daemon answers on {} ({}): is libvirtd or virtqemud running there?", label,
                           message);
    if (says("No route to host") || says("unreachable") || says("timed out") || says("not known") ||
        says("name resolution") || says("Could not resolve"))
        return fmt::format("{} cannot be reached ({}): check its name and the network", label, message);
    return fmt::format("cannot connect to {}: {}", uri, message);
}

// The host's UUID from its capabilities (<host><uuid>), which libvirt tells hosts apart by.
std::string host_uuid(virConnectPtr connection) {
    LibvirtString capabilities{virConnectGetCapabilities(connection)};
    if (!capabilities) {
        virResetLastError();
        return {};
    }
    const std::string_view text{capabilities.get()};
    const auto start = text.find("<uuid>");
    const auto end = text.find("</uuid>");
    return start == std::string_view::npos || end == std::string_view::npos || end < start
               ? std::string{}
               : std::string{text.substr(start + 6, end - start - 6)};
}

// Free memory on the destination in KiB (free, buffers and cache), or nullopt.
std::optional<std::uint64_t> free_memory_kib(virConnectPtr connection) {
    int count = 0;
    if (virNodeGetMemoryStats(connection, VIR_NODE_MEMORY_STATS_ALL_CELLS, nullptr, &count, 0) < 0 || count <= 0) {
        virResetLastError();
        return std::nullopt;
    }
    std::vector<virNodeMemoryStats> stats(static_cast<std::size_t>(count));
    if (virNodeGetMemoryStats(connection, VIR_NODE_MEMORY_STATS_ALL_CELLS, stats.data(), &count, 0) < 0) {
        virResetLastError();
        return std::nullopt;
    }
    std::uint64_t kib = 0;
    for (int i = 0; i < count; ++i)
        if (const std::string_view field{stats[i].field};
            field == VIR_NODE_MEMORY_STATS_FREE || field == VIR_NODE_MEMORY_STATS_BUFFERS ||
            field == VIR_NODE_MEMORY_STATS_CACHED)
            kib += stats[i].value;
    return kib;
}

// The typed parameters of a migration, freed once.
class MigrationParams {
public:
    ~MigrationParams() { virTypedParamsFree(params_, count_); }
    bool add(const char* name, const std::string& value) {
        return virTypedParamsAddString(&params_, &count_, &max_, name, value.c_str()) == 0;
    }
    bool add_list(const char* name, const std::vector<std::string>& values) {
        std::vector<const char*> list;
        for (const std::string& value : values)
            list.push_back(value.c_str());
        list.push_back(nullptr);
        return virTypedParamsAddStringList(&params_, &count_, &max_, name, list.data()) == 0;
    }
    virTypedParameterPtr get() const { return params_; }
    int count() const { return count_; }

private:
    virTypedParameterPtr params_ = nullptr;
    int count_ = 0;
    int max_ = 0;
};

constexpr unsigned undefine_everything = VIR_DOMAIN_UNDEFINE_MANAGED_SAVE | VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA |
                                         VIR_DOMAIN_UNDEFINE_NVRAM | VIR_DOMAIN_UNDEFINE_CHECKPOINTS_METADATA |
                                         VIR_DOMAIN_UNDEFINE_TPM;

// After a failed or cancelled migration the guest runs on here: whatever of it the destination
// still has goes (libvirt removes its incoming guest itself as a rule; this covers the rest).
void clean_destination(virConnectPtr destination, const std::string& guest, DestinationDisks& copies) {
    if (DomainPtr left{virDomainLookupByName(destination, guest.c_str())}) {
        if (virDomainIsActive(left.get()) == 1 && virDomainDestroy(left.get()) < 0)
            log::warn("guest '{}': cannot stop its half-moved copy: {}", guest, last_libvirt_error());
        if (virDomainIsPersistent(left.get()) == 1 && virDomainUndefineFlags(left.get(), undefine_everything) < 0)
            log::warn("guest '{}': cannot undefine its half-moved copy: {}", guest, last_libvirt_error());
    } else {
        virResetLastError();
    }
    copies.discard();
}

} // namespace

std::string without_prompts(const std::string& uri) {
    const auto scheme_end = uri.find("://");
    if (scheme_end == std::string::npos || !uri.substr(0, scheme_end).ends_with("+ssh") ||
        uri.find("no_tty=") != std::string::npos)
        return uri;
    return uri + (uri.find('?') == std::string::npos ? "?" : "&") + "no_tty=1";
}

std::string uri_host(const std::string& uri) {
    const auto scheme_end = uri.find("://");
    if (scheme_end == std::string::npos)
        return {};
    const auto start = scheme_end + 3;
    std::string authority = uri.substr(start, uri.find_first_of("/?", start) - start);
    if (const auto at = authority.rfind('@'); at != std::string::npos)
        authority.erase(0, at + 1);
    if (authority.starts_with('[')) // [IPv6]:port
        return authority.substr(1, authority.find(']') - 1);
    if (const auto colon = authority.find(':'); colon != std::string::npos)
        authority.erase(colon);
    return authority;
}

JobOutcome move_guest(virConnectPtr source, const std::string& guest, const std::string& destination_uri,
                      JobContext& job) {
    JobOutcome outcome;
    outcome.guest = guest;
    const std::string host = uri_host(destination_uri);
    const std::string label = host.empty() ? destination_uri : host;
    auto fail = [&](std::string message) {
        log::error("guest '{}': cannot move it to {}: {}", guest, label, message);
        outcome.message = std::move(message);
        return outcome;
    };
    auto cancelled = [&] {
        outcome.cancelled = true;
        outcome.message = fmt::format("the move of '{}' to {} was cancelled: it runs on here", guest, label);
        log::info("guest '{}': {}", guest, outcome.message);
        return outcome;
    };

    job.progress(0, 0, "checking the guest");
    DomainPtr domain{virDomainLookupByName(source, guest.c_str())};
    if (!domain)
        return fail(fmt::format("cannot find guest '{}': {}", guest, last_libvirt_error()));
    int state = VIR_DOMAIN_NOSTATE, reason = 0;
    if (virDomainGetState(domain.get(), &state, &reason, 0) < 0)
        return fail(fmt::format("cannot read the state of '{}': {}", guest, last_libvirt_error()));
    if (state == VIR_DOMAIN_SHUTOFF || state == VIR_DOMAIN_CRASHED)
        return fail(fmt::format("'{}' is shut off: a move takes a running guest with it live; start it first, or "
                                "use Export and Import to move it while it is off",
                                guest));
    if (state == VIR_DOMAIN_PMSUSPENDED)
        return fail(fmt::format("'{}' sleeps (suspended by its own system): wake it up first", guest));
    LibvirtString xml{virDomainGetXMLDesc(domain.get(), 0)};
    if (!xml)
        return fail(fmt::format("cannot read '{}': {}", guest, last_libvirt_error()));
    std::vector<MoveDisk> disks = disks_to_move(xml.get());
    if (std::string error = measure_disks(domain.get(), disks); !error.empty())
        return fail(fmt::format("'{}': {}", guest, error));
    if (job.cancelled())
        return cancelled();

    job.progress(0, 0, "connecting to " + label);
    ConnectionPtr destination{virConnectOpen(without_prompts(destination_uri).c_str())};
    if (!destination)
        return fail(connect_problem(destination_uri, label));
    if (const std::string here = host_uuid(source); !here.empty() && here == host_uuid(destination.get()))
        return fail(fmt::format("{} is this host: choose another one", destination_uri));
    if (DomainPtr there{virDomainLookupByName(destination.get(), guest.c_str())})
        return fail(fmt::format("{} already has a guest named '{}': rename or remove one of them first", label, guest));
    virResetLastError();
    char uuid[VIR_UUID_STRING_BUFLEN] = {};
    if (virDomainGetUUIDString(domain.get(), uuid) == 0)
        if (DomainPtr same{virDomainLookupByUUIDString(destination.get(), uuid)})
            return fail(fmt::format("{} already has this guest, as '{}' (the same UUID)", label,
                                    virDomainGetName(same.get())));
    virResetLastError();

    std::vector<std::string> notes;
    virDomainInfo info{};
    const auto free_kib = free_memory_kib(destination.get());
    if (virDomainGetInfo(domain.get(), &info) < 0 || !free_kib) {
        virResetLastError();
        notes.push_back(fmt::format("the free memory of {} was not checked", label));
    } else if (*free_kib < info.memory) {
        return fail(fmt::format("{} has {} MiB of memory free, '{}' uses {} MiB", label, *free_kib / 1024, guest,
                                info.memory / 1024));
    }
    if (job.cancelled())
        return cancelled();

    job.progress(0, 0, "making room on " + label);
    DestinationDisks copies;
    std::string storage_note;
    if (std::string error = copies.prepare(destination.get(), guest, disks, label, storage_note); !error.empty()) {
        copies.discard();
        return fail(error);
    }
    if (!storage_note.empty())
        notes.push_back(storage_note);
    // libvirt makes the NVRAM there from the firmware's template, and keeps it after a cancel.
    if (const std::string nvram = nvram_path(xml.get()); !nvram.empty() && storage_note.empty())
        if (std::string error = copies.watch(destination.get(), nvram, label); !error.empty())
            log::warn("guest '{}': a failed move may leave its NVRAM on {}: {}", guest, label, error);
    if (job.cancelled()) {
        copies.discard();
        return cancelled();
    }

    MigrationParams params;
    std::vector<std::string> targets;
    for (const MoveDisk& disk : disks)
        targets.push_back(disk.target);
    bool params_ok = true;
    if (!host.empty())
        params_ok = params.add(VIR_MIGRATE_PARAM_URI, host.find(':') != std::string::npos ? "tcp://[" + host + "]"
                                                                                          : "tcp://" + host);
    if (params_ok && !targets.empty())
        params_ok = params.add_list(VIR_MIGRATE_PARAM_MIGRATE_DISKS, targets);
    if (!params_ok) {
        copies.discard();
        return fail(fmt::format("cannot describe the move: {}", last_libvirt_error()));
    }
    // Live; defined there; our own TPM state (no VIR_MIGRATE_TPM_SHARED); a guest that dirties
    // memory faster than the network carries is slowed down until it converges.
    unsigned flags = VIR_MIGRATE_LIVE | VIR_MIGRATE_PERSIST_DEST | VIR_MIGRATE_CHANGE_PROTECTION |
                     VIR_MIGRATE_ABORT_ON_ERROR | VIR_MIGRATE_AUTO_CONVERGE;
    if (!targets.empty())
        flags |= VIR_MIGRATE_NON_SHARED_DISK;

    const std::vector<std::string> channels = unmigratable_channels(xml.get());
    if (std::string error = unplug_channels(domain.get(), channels); !error.empty()) {
        copies.discard();
        return fail(fmt::format("'{}': {}", guest, error));
    }

    // Encrypted disks are unlocked by new secrets there: the guest's definitions there say so.
    std::vector<std::pair<std::string, std::string>> rekeyed;
    for (const MoveDisk& disk : disks)
        if (!disk.new_secret.empty())
            rekeyed.emplace_back(disk.secret_uuid, disk.new_secret);
    if (!rekeyed.empty()) {
        auto definition = [&](unsigned xml_flags) {
            LibvirtString text{virDomainGetXMLDesc(domain.get(), xml_flags | VIR_DOMAIN_XML_MIGRATABLE)};
            std::string out = text ? text.get() : "";
            for (const auto& [from, to] : rekeyed)
                for (auto at = out.find(from); !from.empty() && at != std::string::npos; at = out.find(from, at))
                    out.replace(at, from.size(), to);
            return out;
        };
        const std::string live = definition(0), persistent = definition(VIR_DOMAIN_XML_INACTIVE);
        if (live.empty() || persistent.empty() || !params.add(VIR_MIGRATE_PARAM_DEST_XML, live) ||
            !params.add(VIR_MIGRATE_PARAM_PERSIST_XML, persistent)) {
            const std::string error = last_libvirt_error();
            plug_channels(domain.get(), channels);
            copies.discard();
            return fail(fmt::format("cannot describe '{}' for {}: {}", guest, label, error));
        }
    }

    job.progress(0, 0, "moving to " + label);
    log::info("guest '{}': moving to {} ({} disk(s))", guest, destination_uri, targets.size());
    const auto started = Clock::now();
    job.watch_domain_job(domain.get());
    DomainPtr moved{virDomainMigrate3(domain.get(), destination.get(), params.get(), params.count(), flags)};
    const std::string migrate_error = moved ? "" : last_libvirt_error();
    job.watch_domain_job(nullptr);
    const double seconds = std::chrono::duration<double>(Clock::now() - started).count();

    if (!moved) {
        if (virDomainIsActive(domain.get()) != 1) {
            // Not here any more: it may run there. Nothing is removed on either side.
            return fail(fmt::format("the move of '{}' failed after it left this host ({}): look for it on {}", guest,
                                    migrate_error, label));
        }
        clean_destination(destination.get(), guest, copies);
        if (std::string error = plug_channels(domain.get(), channels); !error.empty())
            log::warn("guest '{}': {}", guest, error);
        if (job.cancelled())
            return cancelled();
        return fail(fmt::format("the move of '{}' to {} failed: {}; it runs on here", guest, label, migrate_error));
    }

    log::info("guest '{}': moved to {} in {:.1f} s", guest, label, seconds);
    if (std::string error = plug_channels(moved.get(), channels); !error.empty())
        notes.push_back(error);
    if (virDomainIsPersistent(moved.get()) != 1)
        notes.push_back(fmt::format("it is not defined for good on {}: it goes when it shuts down", label));
    // Gone from here: its definition with NVRAM and TPM state (both went with it), not its disks.
    if (virDomainUndefineFlags(domain.get(), undefine_everything) < 0)
        notes.push_back(fmt::format("it is still defined here, shut off: {}", last_libvirt_error()));
    std::string kept;
    for (const MoveDisk& disk : disks)
        kept += (kept.empty() ? "" : ", ") + disk.path;
    if (!kept.empty())
        notes.push_back("its disk files here were kept: " + kept);
    outcome.ok = true;
    outcome.message = fmt::format("'{}' moved to {} in {:.0f} s and runs there", guest, label, seconds);
    for (const std::string& note : notes)
        outcome.message += "; " + note;
    return outcome;
}

} // namespace phyllome::guestview
