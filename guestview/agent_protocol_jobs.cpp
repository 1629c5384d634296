// The agent protocol's job messages: start, cancel, started, and the job list.
#include "guestview/agent_wire.hpp"

namespace phyllome::guestview::agent::wire {
namespace {

void write_request(Writer& w, const JobRequest& r) {
    w.u8(static_cast<std::uint8_t>(r.kind));
    w.str(r.guest);
    w.str(r.target);
    w.str(r.source);
    w.boolean(r.include_secrets);
}

JobRequest read_request(Reader& r) {
    JobRequest q;
    q.kind = r.enumeration(JobKind::Move);
    q.guest = r.str();
    q.target = r.str();
    q.source = r.str();
    q.include_secrets = r.boolean();
    return q;
}

// The least a job takes on the wire, which bounds a count before allocating for it.
constexpr std::size_t min_job_size = 4 + 1 + 3 * 4 + 1 + 1 + 8 + 8 + 4 + 4 + 8;

} // namespace

void write_job_message(std::string& out, const JobStartRequest& m) {
    Writer w(out, Type::JobStart);
    w.u32(m.id);
    write_request(w, m.request);
}

void write_job_message(std::string& out, const JobCancelRequest& m) {
    Writer w(out, Type::JobCancel);
    w.u32(m.job_id);
}

void write_job_message(std::string& out, const JobStartedReply& m) {
    Writer w(out, Type::JobStarted);
    w.u32(m.id);
    w.u32(m.job_id);
    w.str(m.error);
}

void write_job_message(std::string& out, const JobsUpdate& m) {
    Writer w(out, Type::Jobs);
    w.u32(static_cast<std::uint32_t>(m.jobs.size()));
    for (const JobInfo& job : m.jobs) {
        w.u32(job.id);
        write_request(w, job.request);
        w.u8(static_cast<std::uint8_t>(job.state));
        w.i64(static_cast<std::int64_t>(job.done));
        w.i64(static_cast<std::int64_t>(job.total));
        w.str(job.phase);
        w.str(job.message);
        w.i64(static_cast<std::int64_t>(job.elapsed_ms));
    }
}

std::optional<Request> read_job_request(Reader& r, Type type) {
    if (type == Type::JobStart) {
        JobStartRequest m;
        m.id = r.u32();
        m.request = read_request(r);
        return finished<Request>(r, std::move(m));
    }
    JobCancelRequest m;
    m.job_id = r.u32();
    return finished<Request>(r, std::move(m));
}

std::optional<Reply> read_job_reply(Reader& r, Type type, std::size_t body_size) {
    if (type == Type::JobStarted) {
        JobStartedReply m;
        m.id = r.u32();
        m.job_id = r.u32();
        m.error = r.str();
        return finished<Reply>(r, std::move(m));
    }
    JobsUpdate m;
    const std::uint32_t count = r.u32();
    if (r.failed() || count > body_size / min_job_size)
        return std::nullopt;
    m.jobs.reserve(count);
    for (std::uint32_t i = 0; i < count && !r.failed(); ++i) {
        JobInfo job;
        job.id = r.u32();
        job.request = read_request(r);
        job.state = r.enumeration(JobState::Cancelled);
        job.done = static_cast<std::uint64_t>(r.i64());
        job.total = static_cast<std::uint64_t>(r.i64());
        job.phase = r.str();
        job.message = r.str();
        job.elapsed_ms = static_cast<std::uint64_t>(r.i64());
        m.jobs.push_back(std::move(job));
    }
    return finished<Reply>(r, std::move(m));
}

} // namespace phyllome::guestview::agent::wire
