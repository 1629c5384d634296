#include "peer_host.hpp"

#include <dirent.h>
#include <stdlib.h>
#include <unistd.h>
#include <wayland-server-core.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "fake_display_session.hpp"
#include "tests/display/fake_qemu_display.hpp"

namespace phyllome::bench {
namespace {

using guestview::testing::FakeConsoleConfig;
using guestview::testing::FakeQemuDisplay;

long own_rss_kb() {
    std::ifstream f("/proc/self/statm");
    long size = 0, resident = 0;
    f >> size >> resident;
    return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

std::vector<std::uint8_t> pattern(int w, int h, unsigned seed) {
    std::vector<std::uint8_t> data(static_cast<std::size_t>(w) * h * 4);
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x)
            test::put_xrgb(&data[(static_cast<std::size_t>(y) * w + x) * 4],
                           (static_cast<unsigned>(x) * 5 + static_cast<unsigned>(y) * 11 + seed) & 0xffffff);
    return data;
}

} // namespace

struct PeerHost::State {
    struct Peer {
        std::unique_ptr<FakeQemuDisplay> display;
        std::vector<std::uint8_t> frames[2];
        bool connected = false;
        std::uint64_t k = 0;
        Clock::time_point next_due{};
        std::atomic<std::int64_t> first_send_ns{0};
        std::atomic<std::uint64_t> sent{0};
        std::atomic<bool> connected_flag{false};
    };
    wl_event_loop* loop = nullptr;
    std::vector<std::unique_ptr<Peer>> peers;
};

PeerHost::PeerHost(std::vector<Guest> guests) : guests_(std::move(guests)), state_(std::make_unique<State>()) {
    char tmpl[] = "/tmp/phyllome-bench-XXXXXX";
    dir_ = mkdtemp(tmpl);
    thread_ = std::thread([this] { run(); });
    while (!ready_.load())
        std::this_thread::sleep_for(std::chrono::milliseconds(1)); // the sockets must exist before the shell starts
}

PeerHost::~PeerHost() {
    stop_.store(true);
    thread_.join();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
}

std::vector<std::string> PeerHost::display_args() const {
    std::vector<std::string> args;
    for (const auto& g : guests_) {
        args.push_back("--display");
        args.push_back(g.name + "=unix:path=" + dir_ + "/" + g.name + ".sock");
    }
    return args;
}

PeerHost::Clock::time_point PeerHost::first_send(std::size_t i) const {
    return Clock::time_point(std::chrono::nanoseconds(state_->peers[i]->first_send_ns.load()));
}

std::uint64_t PeerHost::sent(std::size_t i) const { return state_->peers[i]->sent.load(); }

bool PeerHost::all_connected() const {
    return std::all_of(state_->peers.begin(), state_->peers.end(),
                       [](const auto& p) { return p->connected_flag.load(); });
}

void PeerHost::run() {
    auto& st = *state_;
    st.loop = wl_event_loop_create();
    std::size_t max_frame = 0;
    for (std::size_t i = 0; i < guests_.size(); ++i) {
        const auto& g = guests_[i];
        auto p = std::make_unique<State::Peer>();
        FakeConsoleConfig console;
        console.width = static_cast<std::uint32_t>(g.width);
        console.height = static_cast<std::uint32_t>(g.height);
        p->display = std::make_unique<FakeQemuDisplay>(st.loop, g.name + "-vm", std::vector{console});
        p->display->listen_unix(dir_ + "/" + g.name + ".sock");
        p->frames[0] = pattern(g.width, g.height, static_cast<unsigned>(i) * 0x203040);
        if (g.rate > 0)
            p->frames[1] = pattern(g.width, g.height, static_cast<unsigned>(i) * 0x203040 + 0x808080);
        max_frame = std::max(max_frame, p->frames[0].size());
        st.peers.push_back(std::move(p));
    }
    // Never queue more than a few frames: QEMU would, but that would only measure our memory.
    const long rss_limit = own_rss_kb() + static_cast<long>(6 * max_frame / 1024);
    ready_.store(true);
    while (!stop_.load()) {
        const auto now = Clock::now();
        for (std::size_t i = 0; i < guests_.size(); ++i) {
            auto& p = *st.peers[i];
            const auto& g = guests_[i];
            const auto w = static_cast<std::uint32_t>(g.width), h = static_cast<std::uint32_t>(g.height);
            if (!p.connected && p.display->listener_connected(0)) {
                // QEMU sends the current surface right after RegisterListener.
                p.connected = true;
                p.first_send_ns.store(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                          Clock::now().time_since_epoch()).count());
                p.display->scanout(0, w, h, w * 4, test::FakeDisplaySession::xrgb, p.frames[0]);
                p.sent.fetch_add(1);
                p.connected_flag.store(true);
                p.next_due = now;
            }
            if (!p.connected || g.rate <= 0 || !streaming_.load() || now < p.next_due)
                continue;
            const auto period = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(1.0 / g.rate));
            p.next_due += period;
            if (p.next_due < now)
                p.next_due = now + period; // fell behind: do not burst
            if (own_rss_kb() > rss_limit) {
                skipped_.fetch_add(1);
                continue;
            }
            ++p.k;
            p.display->scanout(0, w, h, w * 4, test::FakeDisplaySession::xrgb, p.frames[p.k % 2]);
            p.sent.fetch_add(1);
        }
        wl_event_loop_dispatch(st.loop, 1);
        wl_event_loop_dispatch_idle(st.loop);
    }
    st.peers.clear();
    wl_event_loop_destroy(st.loop);
}

int find_pid_by_arg(const std::string& arg) {
    DIR* d = opendir("/proc");
    if (!d)
        return -1;
    int found = -1;
    while (dirent* e = readdir(d)) {
        const int pid = std::atoi(e->d_name);
        if (pid <= 0 || pid == getpid())
            continue;
        std::ifstream f(std::string("/proc/") + e->d_name + "/cmdline");
        std::string cmdline((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
        std::size_t start = 0;
        for (std::size_t i = 0; i <= cmdline.size(); ++i) {
            if (i == cmdline.size() || cmdline[i] == '\0') {
                if (cmdline.compare(start, i - start, arg) == 0 && start < i) {
                    found = pid;
                    break;
                }
                start = i + 1;
            }
        }
        // Only the shell itself: phyllomectl children do not carry --config.
        if (found > 0 && cmdline.find("phyllome-shell") != std::string::npos)
            break;
        found = -1;
    }
    closedir(d);
    return found;
}

ProcSample sample_process(int pid) {
    ProcSample s;
    const std::string base = "/proc/" + std::to_string(pid);
    DIR* d = opendir((base + "/task").c_str());
    if (!d)
        return s;
    while (dirent* e = readdir(d)) {
        if (e->d_name[0] == '.')
            continue;
        const std::string task = base + "/task/" + e->d_name;
        ++s.threads;
        std::ifstream status(task + "/status");
        std::string line;
        while (std::getline(status, line)) {
            std::istringstream in(line);
            std::string key;
            std::uint64_t v = 0;
            in >> key >> v;
            if (key == "voluntary_ctxt_switches:") {
                s.voluntary += v;
                if (std::to_string(pid) == e->d_name)
                    s.main_voluntary = v;
            }
            else if (key == "nonvoluntary_ctxt_switches:")
                s.involuntary += v;
        }
        std::ifstream sched(task + "/schedstat");
        std::uint64_t run_ns = 0;
        if (sched >> run_ns)
            s.cpu_ms += static_cast<double>(run_ns) / 1e6;
    }
    closedir(d);
    std::ifstream statm(base + "/statm");
    long size = 0, resident = 0;
    if (statm >> size >> resident)
        s.rss_kb = resident * (sysconf(_SC_PAGESIZE) / 1024);
    return s;
}

} // namespace phyllome::bench
