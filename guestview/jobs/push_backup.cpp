#include "guestview/jobs/push_backup.hpp"

#include <algorithm>
#include <chrono>
#include <thread>

#include <fmt/format.h>

#include "config/log.hpp"
#include "guestview/libvirt_handles.hpp"
#include "guestview/xml_tree.hpp"

namespace phyllome::guestview {
namespace {

using namespace std::chrono_literals;

using xml::escape;

struct TypedParams {
    virTypedParameterPtr params = nullptr;
    int count = 0;
    ~TypedParams() { virTypedParamsFree(params, count); }
    TypedParams() = default;
    TypedParams(const TypedParams&) = delete;
    TypedParams& operator=(const TypedParams&) = delete;

    std::uint64_t ull(const char* name) const {
        unsigned long long value = 0;
        return virTypedParamsGetULLong(params, count, name, &value) == 1 ? value : 0;
    }
    std::string str(const char* name) const {
        const char* value = nullptr;
        return virTypedParamsGetString(params, count, name, &value) == 1 && value != nullptr ? value : "";
    }
};

// Stops watching when the wait ends, however it ends.
struct WatchGuard {
    JobContext& job;
    WatchGuard(JobContext& j, virDomainPtr domain) : job(j) { job.watch_domain_job(domain); }
    ~WatchGuard() { job.watch_domain_job(nullptr); }
    WatchGuard(const WatchGuard&) = delete;
    WatchGuard& operator=(const WatchGuard&) = delete;
};

} // namespace

std::string push_backup_xml(const std::vector<PushTarget>& targets, const std::vector<std::string>& skipped) {
    std::string xml = "<domainbackup mode='push'>\n  <disks>\n";
    for (const PushTarget& target : targets) {
        xml += fmt::format("    <disk name='{}' backup='yes' type='file'>\n      <driver type='qcow2'/>\n",
                           escape(target.disk.dev));
        // An encrypted disk stays encrypted in its backup, under the same secret.
        if (target.disk.secret_uuid.empty())
            xml += fmt::format("      <target file='{}'/>\n", escape(target.file));
        else
            xml += fmt::format("      <target file='{}'>\n        <encryption format='luks'>\n"
                               "          <secret type='passphrase' uuid='{}'/>\n        </encryption>\n"
                               "      </target>\n",
                               escape(target.file), escape(target.disk.secret_uuid));
        xml += "    </disk>\n";
    }
    for (const std::string& dev : skipped)
        xml += fmt::format("    <disk name='{}' backup='no'/>\n", escape(dev));
    xml += "  </disks>\n</domainbackup>\n";
    return xml;
}

PushResult run_push_backup(virDomainPtr domain, const std::vector<PushTarget>& targets,
                           const std::vector<std::string>& skipped, JobContext& job, std::uint64_t done_before,
                           std::uint64_t total) {
    PushResult result;
    const char* name = virDomainGetName(domain);
    const std::string xml = push_backup_xml(targets, skipped);
    if (virDomainBackupBegin(domain, xml.c_str(), nullptr, 0) < 0) {
        result.error = fmt::format("cannot begin the backup of guest '{}': {}", name, last_libvirt_error());
        return result;
    }
    log::info("guest '{}': backup job started (push mode, {} disk(s))", name, targets.size());
    bool aborted = false;
    {
        WatchGuard watch(job, domain);
        for (;;) {
            TypedParams stats;
            int type = VIR_DOMAIN_JOB_NONE;
            if (virDomainGetJobStats(domain, &type, &stats.params, &stats.count, 0) < 0) {
                result.error = fmt::format("lost the backup job of guest '{}': {}", name, last_libvirt_error());
                virDomainAbortJob(domain);
                return result;
            }
            if (type == VIR_DOMAIN_JOB_NONE)
                break;
            // A backup job counts its bytes as DISK_*, a migration as DATA_*.
            const std::uint64_t processed =
                std::max(stats.ull(VIR_DOMAIN_JOB_DISK_PROCESSED), stats.ull(VIR_DOMAIN_JOB_DATA_PROCESSED));
            job.progress(done_before + processed, total, "backing up the disks");
            // The runner aborts the watched job on cancel; a context that does not (tests, an
            // older runner) gets the same from here. A second abort fails harmlessly.
            if (job.cancelled() && !aborted) {
                aborted = true;
                log::info("guest '{}': cancelled, aborting its backup job at {} bytes", name, processed);
                if (virDomainAbortJob(domain) < 0) {
                    log::info("guest '{}': the backup job did not abort: {}", name, last_libvirt_error());
                    virResetLastError();
                }
            }
            std::this_thread::sleep_for(50ms);
        }
    }
    TypedParams done;
    int type = VIR_DOMAIN_JOB_NONE;
    // KEEP_COMPLETED: reading must not take the result away from the runner's own look.
    if (virDomainGetJobStats(domain, &type, &done.params, &done.count,
                             VIR_DOMAIN_JOB_STATS_COMPLETED | VIR_DOMAIN_JOB_STATS_KEEP_COMPLETED) < 0) {
        result.error = fmt::format("cannot tell how the backup of guest '{}' ended: {}", name, last_libvirt_error());
        return result;
    }
    if (type == VIR_DOMAIN_JOB_COMPLETED) {
        log::info("guest '{}': backup job completed ({} bytes)", name,
                  std::max(done.ull(VIR_DOMAIN_JOB_DISK_PROCESSED), done.ull(VIR_DOMAIN_JOB_DATA_PROCESSED)));
        result.ok = !job.cancelled();
        result.cancelled = job.cancelled();
        return result;
    }
    if (type == VIR_DOMAIN_JOB_CANCELLED || job.cancelled()) {
        result.cancelled = true;
        return result;
    }
    const std::string why = done.str(VIR_DOMAIN_JOB_ERRMSG);
    result.error = fmt::format("the backup job of guest '{}' failed: {}", name, why.empty() ? "no reason given" : why);
    return result;
}

} // namespace phyllome::guestview
