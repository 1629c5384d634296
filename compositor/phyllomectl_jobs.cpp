#include "compositor/phyllomectl_jobs.hpp"

#include <poll.h>
#include <unistd.h>

#include <atomic>
#include <climits>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "compositor/control_protocol.hpp"
#include "compositor/job_status.hpp"
#include "compositor/phyllomectl_client.hpp"

namespace phyllome::compositor::ctl {
namespace {

volatile std::sig_atomic_t interrupted = 0;

void on_sigint(int) { interrupted = interrupted + 1; }

struct Options {
    bool json = false, detach = false, secrets = false;
    std::string as; // restore --as NEW
    std::vector<std::string> words;
};

std::string absolute(const std::string& path) {
    char resolved[PATH_MAX];
    if (realpath(path.c_str(), resolved) != nullptr)
        return resolved;
    // Not there yet (an export's file): its folder resolved, the name kept.
    const auto slash = path.rfind('/');
    const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
    if (realpath(dir.c_str(), resolved) != nullptr)
        return std::string(resolved) + "/" + (slash == std::string::npos ? path : path.substr(slash + 1));
    return path;
}

// The request for argv, or the usage error.
std::optional<control::Request> job_request(const std::string& verb, const Options& o, std::string& error) {
    control::Request r;
    r.verb = control::Request::Verb::JobStart;
    const auto& w = o.words;
    auto need = [&](std::size_t n, const char* usage) {
        if (w.size() == n)
            return true;
        error = std::string("usage: phyllomectl ") + usage;
        return false;
    };
    if (verb == "duplicate") {
        if (!need(2, "duplicate NAME NEW"))
            return std::nullopt;
        r.options["kind"] = "duplicate";
        r.guest = w[0];
        r.options["target"] = w[1];
    } else if (verb == "snapshot") {
        const std::string sub = w.size() >= 2 ? w[1] : "";
        if (sub == "take" && (w.size() == 2 || w.size() == 3)) {
            r.options["kind"] = "snapshot-take";
            if (w.size() == 3)
                r.options["target"] = w[2];
        } else if ((sub == "revert" || sub == "delete") && w.size() == 3) {
            r.options["kind"] = sub == "revert" ? "snapshot-revert" : "snapshot-delete";
            r.options["target"] = w[2];
        } else {
            error = "usage: phyllomectl snapshot NAME take [SNAPSHOT] | list | revert SNAPSHOT | delete SNAPSHOT";
            return std::nullopt;
        }
        r.guest = w[0];
    } else if (verb == "backup") {
        if (!need(2, "backup NAME DIRECTORY"))
            return std::nullopt;
        r.options["kind"] = "backup";
        r.guest = w[0];
        r.options["target"] = absolute(w[1]);
    } else if (verb == "restore") {
        if (!need(1, "restore BACKUP [--as NEW]"))
            return std::nullopt;
        r.options["kind"] = "restore";
        r.options["source"] = absolute(w[0]);
        if (!o.as.empty())
            r.options["target"] = o.as;
    } else if (verb == "export") {
        if (!need(2, "export NAME FILE [--with-secrets]"))
            return std::nullopt;
        r.options["kind"] = "export";
        r.guest = w[0];
        r.options["target"] = absolute(w[1]);
        if (o.secrets)
            r.options["secrets"] = "1";
    } else if (verb == "import") {
        if (!need(1, "import FILE"))
            return std::nullopt;
        r.options["kind"] = "import";
        r.options["source"] = absolute(w[0]);
    } else if (verb == "move") {
        if (!need(2, "move NAME DESTINATION-URI (e.g. qemu+ssh://host/system)"))
            return std::nullopt;
        r.options["kind"] = "move";
        r.guest = w[0];
        r.options["target"] = w[1];
    } else {
        return std::nullopt;
    }
    return r;
}

void print_progress(const guestview::JobInfo& job, bool json, bool terminal) {
    if (json) {
        std::printf("%s\n", job_json(job).c_str());
    } else if (terminal) {
        // One line rewritten in place; \033[K clears what a longer line left.
        std::printf("\r%s\033[K", job_progress_text(job).c_str());
    } else {
        std::printf("%s\n", job_progress_text(job).c_str());
    }
    std::fflush(stdout);
}

// Follows job `id` until it ends; returns the exit status.
int follow(const std::string& socket, std::uint32_t id, const std::string& title, bool json) {
    const bool terminal = !json && isatty(STDOUT_FILENO) == 1;
    struct sigaction sa {};
    sa.sa_handler = on_sigint;
    sigaction(SIGINT, &sa, nullptr);
    bool cancel_sent = false;
    std::string last_shown;
    auto last_print = std::chrono::steady_clock::time_point{};
    for (;;) {
        if (interrupted > 1) {
            std::fprintf(stderr, "\nphyllomectl: job %u goes on cancelling in the shell\n", id);
            return 130;
        }
        if (interrupted == 1 && !cancel_sent) {
            cancel_sent = true;
            std::string error;
            auto a = exchange(socket, fmt::format("cancel {}\n", id), 10000, error);
            if (!json)
                std::fprintf(stderr, "%scancelling %s…\n", terminal ? "\n" : "", title.c_str());
            if (!a || !a->ok)
                std::fprintf(stderr, "phyllomectl: %s", a ? a->body.c_str() : (error + "\n").c_str());
        }
        std::string error;
        auto answer = exchange(socket, fmt::format("job-state {}\n", id), 10000, error);
        if (!answer) {
            std::fprintf(stderr, "%sphyllomectl: %s\n", terminal ? "\n" : "", error.c_str());
            return 1;
        }
        if (!answer->ok) {
            std::fprintf(stderr, "%sphyllomectl: %s", terminal ? "\n" : "", answer->body.c_str());
            return 1;
        }
        auto job = parse_job_line(answer->body);
        if (!job) {
            std::fprintf(stderr, "phyllomectl: the shell sent a job state it cannot read\n");
            return 1;
        }
        const auto now = std::chrono::steady_clock::now();
        const std::string shown = job_progress_text(*job);
        // A pipe gets a line per change, at most one a second; a terminal's line follows closely.
        const bool due = terminal || json || now - last_print >= std::chrono::seconds(1) || guestview::finished(*job);
        if (shown != last_shown && due) {
            if (!guestview::finished(*job) || json)
                print_progress(*job, json, terminal);
            last_shown = shown;
            last_print = now;
        }
        if (guestview::finished(*job)) {
            if (!json) {
                FILE* to = job->state == guestview::JobState::Done ? stdout : stderr;
                std::fprintf(to, "%s%s: %s\n", terminal ? "\r\033[K" : "", title.c_str(), shown.c_str());
            }
            return job->state == guestview::JobState::Done ? 0 : job->state == guestview::JobState::Cancelled && cancel_sent ? 130 : 1;
        }
        ::poll(nullptr, 0, 250); // a Ctrl+C ends the wait early
    }
}

} // namespace

const char* job_usage() {
    return "  duplicate NAME NEW  a shut-off guest copied whole: disks, firmware variables, TPM;\n"
           "                      a new name, UUID, MAC addresses, number and colour\n"
           "  snapshot NAME take [SNAPSHOT] | list | revert SNAPSHOT | delete SNAPSHOT\n"
           "                      the guest's snapshots (running: with its memory)\n"
           "  backup NAME DIRECTORY\n"
           "                      a consistent backup (a running guest goes on running) into\n"
           "                      DIRECTORY/NAME-DATE-TIME, with SHA-256 checksums\n"
           "  restore BACKUP [--as NEW]\n"
           "                      define the guest again from a backup folder (checked first)\n"
           "  export NAME FILE [--with-secrets]\n"
           "                      the guest in one file for another Phyllome host; encrypted\n"
           "                      disks stay encrypted, their key travels only with --with-secrets\n"
           "  import FILE         define a guest exported by another host\n"
           "  move NAME URI       live-migrate a running guest to another host's libvirt\n"
           "                      (qemu+ssh://host/system), its local disks copied\n"
           "  jobs [--json]       the running jobs and the last finished ones\n"
           "  cancel ID           stop a job; nothing is left behind, the guest is as it was\n"
           "                      Long jobs show their progress until they end (Ctrl+C cancels);\n"
           "                      --json prints one JSON object a line, --detach only starts them\n";
}

std::optional<int> run_job_command(int argc, char** argv) {
    const std::string verb = argv[1];
    static const char* const verbs[] = {"duplicate", "snapshot", "backup", "restore", "export", "import", "move"};
    bool is_job = false;
    for (const char* v : verbs)
        is_job |= verb == v;
    if (!is_job)
        return std::nullopt;
    Options o;
    for (int i = 2; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--json")
            o.json = true;
        else if (a == "--detach")
            o.detach = true;
        else if (a == "--with-secrets")
            o.secrets = true;
        else if (a == "--as" && i + 1 < argc)
            o.as = argv[++i];
        else if (a.starts_with("--")) {
            std::fprintf(stderr, "phyllomectl: unknown option %s\n", a.c_str());
            return 2;
        } else
            o.words.push_back(a);
    }
    std::string error;
    if (verb == "snapshot" && o.words.size() == 2 && o.words[1] == "list") {
        // Not a job: the list the shell has.
        auto socket = control::find_socket(error);
        auto answer = socket ? exchange(*socket, "snapshots " + o.words[0] + "\n", 10000, error) : std::nullopt;
        if (!answer) {
            std::fprintf(stderr, "phyllomectl: %s\n", error.c_str());
            return 1;
        }
        std::fputs(answer->body.c_str(), answer->ok ? stdout : stderr);
        return answer->ok ? 0 : 1;
    }
    auto request = job_request(verb, o, error);
    if (!request) {
        std::fprintf(stderr, "phyllomectl: %s\n", error.c_str());
        return 2;
    }
    auto socket = control::find_socket(error);
    if (!socket) {
        std::fprintf(stderr, "phyllomectl: %s\n", error.c_str());
        return 1;
    }
    auto answer = exchange(*socket, control::format_request(*request), 120000, error);
    if (!answer) {
        std::fprintf(stderr, "phyllomectl: %s\n", error.c_str());
        return 1;
    }
    if (!answer->ok) {
        std::fputs(answer->body.c_str(), stderr);
        return 1;
    }
    // "job N\nTITLE: started\n"
    unsigned id = 0;
    if (std::sscanf(answer->body.c_str(), "job %u", &id) != 1 || id == 0) {
        std::fprintf(stderr, "phyllomectl: the shell did not say which job it started\n");
        return 1;
    }
    const auto title_end = answer->body.find(": started");
    const auto title_start = answer->body.find('\n') + 1;
    const std::string title = title_end == std::string::npos ? verb : answer->body.substr(title_start, title_end - title_start);
    if (o.detach) {
        if (o.json)
            std::printf("{\"job\": %u}\n", id);
        else
            std::printf("job %u: %s started (phyllomectl jobs follows it, phyllomectl cancel %u stops it)\n", id,
                        title.c_str(), id);
        return 0;
    }
    if (!o.json)
        std::printf("job %u: %s\n", id, title.c_str());
    return follow(*socket, id, title, o.json);
}

} // namespace phyllome::compositor::ctl
