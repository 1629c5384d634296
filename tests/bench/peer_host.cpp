#include "peer_host.hpp"

#include <stdlib.h>
#include <unistd.h>
#include <wayland-server-core.h>

#include <algorithm>
#include <filesystem>

#include "fake_display_session.hpp"
#include "tests/display/fake_qemu_display.hpp"

namespace phyllome::bench {
namespace {

using guestview::testing::FakeConsoleConfig;
using guestview::testing::FakeQemuDisplay;

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
        bool ended = false; // its connection closed or a send failed: it sends no more
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
    stop();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
}

void PeerHost::stop() {
    stop_.store(true);
    if (thread_.joinable())
        thread_.join();
}

std::string PeerHost::errors() const {
    std::lock_guard lock(errors_mutex_);
    return errors_;
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

void PeerHost::send_due(std::size_t i, Clock::time_point now) {
    auto& p = *state_->peers[i];
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
        return;
    const auto period = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(1.0 / g.rate));
    p.next_due += period;
    if (p.next_due < now)
        p.next_due = now + period; // fell behind: do not burst
    // Never queue frames behind a shell that is not reading: QEMU would, but that would only
    // measure our memory. (The process's RSS is no gauge: under ASan freed messages stay mapped.)
    if (p.display->listener_backlogged(0)) {
        skipped_.fetch_add(1);
        return;
    }
    ++p.k;
    p.display->scanout(0, w, h, w * 4, test::FakeDisplaySession::xrgb, p.frames[p.k % 2]);
    p.sent.fetch_add(1);
}

void PeerHost::run() {
    // Nothing thrown here may end the bench (std::terminate): it becomes the peers' error.
    try {
        serve();
    } catch (const std::exception& e) {
        std::lock_guard lock(errors_mutex_);
        errors_ += (errors_.empty() ? "" : "; ") + std::string("the peers' thread: ") + e.what();
    }
    ready_.store(true); // also after a failure: the constructor must not wait for ever
}

void PeerHost::serve() {
    auto& st = *state_;
    // The peers' connections use the loop: they close first, also when this throws. Their
    // counters stay readable after stop().
    struct LoopOwner {
        State& st;
        ~LoopOwner() {
            for (auto& p : st.peers)
                p->display.reset();
            if (st.loop)
                wl_event_loop_destroy(st.loop);
            st.loop = nullptr;
        }
    } owner{st};
    st.loop = wl_event_loop_create();
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
        st.peers.push_back(std::move(p));
    }
    ready_.store(true);
    // A send fails once the shell has reset the connection (it stopped, or dropped a peer it
    // found wrong): that peer's stream ends there, and why is kept for the phase's notes.
    const auto end_peer = [this](State::Peer& p, const Guest& g, const std::string& why) {
        p.ended = true;
        std::lock_guard lock(errors_mutex_);
        errors_ += (errors_.empty() ? "" : "; ") + g.name + ": " + why;
    };
    while (!stop_.load()) {
        const auto now = Clock::now();
        for (std::size_t i = 0; i < guests_.size(); ++i) {
            auto& p = *st.peers[i];
            const auto& g = guests_[i];
            if (p.ended)
                continue;
            if (p.connected && !p.display->listener_connected(0)) {
                end_peer(p, g, "the shell closed the listener connection");
                continue;
            }
            try {
                send_due(i, now);
            } catch (const std::exception& e) {
                end_peer(p, g, e.what());
            }
        }
        wl_event_loop_dispatch(st.loop, 1);
        wl_event_loop_dispatch_idle(st.loop);
    }
}

} // namespace phyllome::bench
