#include "compositor/job_status.hpp"

#include <algorithm>
#include <cstdio>

#include <fmt/format.h>

#include "compositor/status.hpp"

namespace phyllome::compositor {
namespace {

std::string one_line(std::string text) {
    std::ranges::replace(text, '\n', ' ');
    return text;
}

std::optional<guestview::JobState> state_named(std::string_view name) {
    using S = guestview::JobState;
    for (S s : {S::Running, S::Cancelling, S::Done, S::Failed, S::Cancelled})
        if (guestview::to_string(s) == name)
            return s;
    return std::nullopt;
}

} // namespace

std::string byte_size_text(std::uint64_t bytes) {
    const double b = static_cast<double>(bytes);
    if (bytes >= (1ull << 30))
        return fmt::format("{:.1f} GiB", b / (1ull << 30));
    if (bytes >= (1ull << 20))
        return fmt::format("{:.0f} MiB", b / (1ull << 20));
    return fmt::format("{:.0f} KiB", b / 1024);
}

std::string job_title(const guestview::JobInfo& job) {
    using K = guestview::JobKind;
    const auto& r = job.request;
    switch (r.kind) {
    case K::Duplicate: return fmt::format("duplicate {} as {}", r.guest, r.target);
    case K::SnapshotTake: return r.target.empty() ? fmt::format("snapshot {}", r.guest)
                                                  : fmt::format("snapshot {} as \"{}\"", r.guest, r.target);
    case K::SnapshotRevert: return fmt::format("revert {} to \"{}\"", r.guest, r.target);
    case K::SnapshotDelete: return fmt::format("delete {}'s snapshot \"{}\"", r.guest, r.target);
    case K::Backup: return fmt::format("back up {} to {}", r.guest, r.target);
    case K::Restore: return fmt::format("restore {}{}", r.source, r.target.empty() ? "" : " as " + r.target);
    case K::Export: return fmt::format("export {} to {}", r.guest, r.target);
    case K::Import: return fmt::format("import {}", r.source);
    case K::Move: return fmt::format("move {} to {}", r.guest, r.target);
    }
    return "job";
}

std::string job_progress_text(const guestview::JobInfo& job) {
    using S = guestview::JobState;
    switch (job.state) {
    case S::Done: return job.message.empty() ? fmt::format("done in {:.1f} s", job.elapsed_ms / 1000.0)
                                             : fmt::format("done in {:.1f} s: {}", job.elapsed_ms / 1000.0, job.message);
    case S::Failed: return "failed: " + job.message;
    case S::Cancelled: return "cancelled; nothing was left behind";
    case S::Cancelling: return "cancelling…";
    case S::Running: break;
    }
    std::string text;
    if (job.total > 0) {
        text = fmt::format("{}% · {} of {}", std::min<std::uint64_t>(100, job.done * 100 / job.total),
                           byte_size_text(job.done), byte_size_text(job.total));
        if (auto left = guestview::seconds_left(job))
            text += *left >= 120 ? fmt::format(" · {} min left", (*left + 30) / 60) : fmt::format(" · {} s left", *left);
    } else if (job.done > 0) {
        text = byte_size_text(job.done);
    }
    if (!job.phase.empty())
        text += (text.empty() ? "" : " · ") + job.phase;
    return text.empty() ? "starting" : text;
}

std::string job_json(const guestview::JobInfo& job) {
    const auto left = guestview::seconds_left(job);
    return fmt::format(
        R"({{"id": {}, "kind": {}, "guest": {}, "target": {}, "source": {}, "state": {}, "done": {}, "total": {}, )"
        R"("percent": {}, "seconds_left": {}, "phase": {}, "message": {}, "elapsed_ms": {}}})",
        job.id, json_escape(guestview::to_string(job.request.kind)), json_escape(job.request.guest),
        json_escape(job.request.target), json_escape(job.request.source), json_escape(guestview::to_string(job.state)),
        job.done, job.total,
        job.total > 0 ? fmt::format("{:.1f}", 100.0 * static_cast<double>(job.done) / static_cast<double>(job.total))
                      : std::string("null"),
        left ? std::to_string(*left) : std::string("null"), json_escape(job.phase), json_escape(job.message),
        job.elapsed_ms);
}

std::string jobs_json(const std::vector<guestview::JobInfo>& jobs) {
    std::string out = "[";
    for (std::size_t i = 0; i < jobs.size(); ++i)
        out += (i ? ", " : "") + job_json(jobs[i]);
    return out + "]";
}

std::string job_line(const guestview::JobInfo& job) {
    return fmt::format("{} {} {} {} {}\n{}\n{}\n", job.id, guestview::to_string(job.state), job.done, job.total,
                       job.elapsed_ms, one_line(job.phase), one_line(job.message));
}

std::optional<guestview::JobInfo> parse_job_line(std::string_view body) {
    const auto first = body.find('\n');
    if (first == std::string_view::npos)
        return std::nullopt;
    const auto second = body.find('\n', first + 1);
    if (second == std::string_view::npos)
        return std::nullopt;
    const auto third = body.find('\n', second + 1);
    guestview::JobInfo job;
    char state[32] = {};
    unsigned long long done = 0, total = 0, elapsed = 0;
    const std::string head(body.substr(0, first));
    if (std::sscanf(head.c_str(), "%u %31s %llu %llu %llu", &job.id, state, &done, &total, &elapsed) != 5)
        return std::nullopt;
    auto parsed = state_named(state);
    if (!parsed)
        return std::nullopt;
    job.state = *parsed;
    job.done = done;
    job.total = total;
    job.elapsed_ms = elapsed;
    job.phase = std::string(body.substr(first + 1, second - first - 1));
    job.message = std::string(body.substr(second + 1, third == std::string_view::npos ? std::string_view::npos : third - second - 1));
    return job;
}

} // namespace phyllome::compositor
