#include <cstdlib>

#include <fmt/format.h>

#include "compositor/commands/commands.hpp"
#include "compositor/guest_card.hpp"
#include "compositor/job_status.hpp"

namespace phyllome::compositor::commands {
namespace {

std::uint32_t job_id(const control::Request& r) {
    auto it = r.options.find("id");
    return it == r.options.end() ? 0 : static_cast<std::uint32_t>(std::strtoul(it->second.c_str(), nullptr, 10));
}

std::string option(const control::Request& r, const char* key) {
    auto it = r.options.find(key);
    return it == r.options.end() ? std::string{} : it->second;
}

} // namespace

// Answers once the job started (or could not): "job N" on the first line, for phyllomectl to follow.
void job_start(const control::Request& r, CommandTarget& target, Reply reply) {
    auto kind = guestview::job_kind_from_slug(option(r, "kind"));
    if (!kind) {
        reply(false, fmt::format("unknown job kind '{}'\n", option(r, "kind")));
        return;
    }
    guestview::JobRequest request{*kind, r.guest, option(r, "target"), option(r, "source"), option(r, "secrets") == "1"};
    guestview::JobInfo shown{0, request};
    target.inventory().start_job(std::move(request),
                                 [reply = std::move(reply), title = job_title(shown)](std::uint32_t id, std::string error) {
                                     if (id == 0)
                                         reply(false, fmt::format("cannot {}: {}\n", title, error));
                                     else
                                         reply(true, fmt::format("job {}\n{}: started\n", id, title));
                                 });
}

void jobs(const control::Request&, CommandTarget& target, Reply reply) {
    std::string text;
    for (const guestview::JobInfo& job : target.inventory().jobs())
        text += fmt::format("{:>3}  {}: {}\n", job.id, job_title(job), job_progress_text(job));
    reply(true, text.empty() ? "no jobs\n" : text);
}

void jobs_json(const control::Request&, CommandTarget& target, Reply reply) {
    reply(true, compositor::jobs_json(target.inventory().jobs()) + "\n");
}

void job_query(const control::Request& r, CommandTarget& target, Reply reply) {
    const guestview::JobInfo* job = target.inventory().find_job(job_id(r));
    if (job == nullptr) {
        reply(false, fmt::format("there is no job {} (see phyllomectl jobs)\n", job_id(r)));
        return;
    }
    reply(true, job_line(*job));
}

void job_cancel(const control::Request& r, CommandTarget& target, Reply reply) {
    const guestview::JobInfo* job = target.inventory().find_job(job_id(r));
    if (job == nullptr) {
        reply(false, fmt::format("there is no job {} (see phyllomectl jobs)\n", job_id(r)));
        return;
    }
    if (guestview::finished(*job)) {
        reply(false, fmt::format("job {} has ended: {}\n", job->id, job_progress_text(*job)));
        return;
    }
    target.inventory().cancel_job(job->id);
    reply(true, fmt::format("cancelling job {}: {}\n", job->id, job_title(*job)));
}

// The guest's snapshots, newest first: name, time, and whether it holds the memory.
void snapshots(const control::Request& r, CommandTarget& target, Reply reply) {
    const guestview::GuestInfo* guest = target.inventory().find(r.guest);
    if (guest == nullptr) {
        reply(false, fmt::format("there is no guest named '{}'\n", r.guest));
        return;
    }
    if (guest->snapshots.empty()) {
        reply(true, fmt::format("{} has no snapshots (phyllomectl snapshot {} take)\n", r.guest, r.guest));
        return;
    }
    std::string text;
    for (const auto& snap : guest->snapshots)
        text += fmt::format("{}\t{}\t{}{}\n", snap.name, GuestCard::when(snap.created),
                            snap.with_memory ? "running" : "shut off", snap.current ? "\tcurrent" : "");
    reply(true, text);
}

} // namespace phyllome::compositor::commands
