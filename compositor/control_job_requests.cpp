// The control protocol's job verbs (control_protocol.hpp describes their wire form).
#include <cstdio>

#include <fmt/format.h>

#include "compositor/control_protocol.hpp"

namespace phyllome::compositor::control {
namespace {

bool parse_id(std::string_view arg, Request& r) {
    unsigned id = 0;
    char tail = 0;
    if (arg.empty() || std::sscanf(std::string(arg).c_str(), "%u%c", &id, &tail) != 1 || id == 0)
        return false;
    r.options["id"] = std::to_string(id);
    return true;
}

} // namespace

std::optional<std::variant<Request, std::string>> parse_job_request(std::string_view verb, std::string_view arg) {
    Request r;
    if (verb == "jobs") {
        if (!arg.empty() && arg != "--json")
            return std::string("jobs takes only --json");
        r.verb = arg.empty() ? Request::Verb::Jobs : Request::Verb::JobsJson;
        return r;
    }
    if (verb == "snapshots") {
        if (arg.empty())
            return std::string("snapshots needs a guest name");
        r.verb = Request::Verb::Snapshots;
        r.guest = std::string(arg);
        return r;
    }
    if (verb == "job-state" || verb == "cancel") {
        r.verb = verb == "cancel" ? Request::Verb::JobCancel : Request::Verb::JobQuery;
        if (!parse_id(arg, r))
            return fmt::format("{} needs a job number (see jobs)", verb);
        return r;
    }
    if (verb != "job")
        return std::nullopt;
    // "job key=value… [NAME]": values percent-encoded, so paths and URIs may hold spaces.
    r.verb = Request::Verb::JobStart;
    std::string_view rest = take_options(arg, r.options);
    r.guest = std::string(rest);
    if (!r.options.count("kind"))
        return std::string("job needs kind=");
    return r;
}

std::string format_job_request(const Request& r) {
    switch (r.verb) {
    case Request::Verb::Jobs: return "jobs\n";
    case Request::Verb::JobsJson: return "jobs --json\n";
    case Request::Verb::JobQuery: return "job-state " + r.options.at("id") + "\n";
    case Request::Verb::JobCancel: return "cancel " + r.options.at("id") + "\n";
    case Request::Verb::Snapshots: return "snapshots " + r.guest + "\n";
    default: break;
    }
    return format_with_options("job", r);
}

} // namespace phyllome::compositor::control
