// Switching between guests: two fake QEMU displays (`--display NAME=unix:path=...`) served from
// this process, the real shell on the headless backend, and what the user sees and types while
// switching with the host key, phyllomectl and the identity banner/edge. Also the guest numbers
// and colours of libvirt guests (test driver) in the overlay.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>

#include "loop_pump.hpp"
#include "fake_display_session.hpp"
#include "two_fake_guests.hpp"

namespace phyllome::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using guestview::testing::FakeQemuDisplay;
using guestview::testing::InputCall;

constexpr int W = 1280, H = 800;
// A point far from the banner and the edge: what the guest's frame looks like.
constexpr int probe_x = W / 2, probe_y = H * 3 / 4;
// The identity banner: 460x72, centred, at y = H/12, the guest colour in its left 12 px.
const Rect banner{(W - 460) / 2, H / 12, 460, 72};
const Rect banner_bar_probe{banner.x + 3, banner.y + 20, 6, 32};

constexpr unsigned amber_colour = 0xc08020, teal_colour = 0x208080, green = 0x30c040;

long ms_since(Clock::time_point t) {
    return static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count());
}


int count_not(const Image& img, const Rect& r, unsigned colour) {
    int n = 0;
    for (int y = r.y; y < r.y + r.height; ++y)
        for (int x = r.x; x < r.x + r.width; ++x)
            n += img.pixel(x, y) != colour;
    return n;
}

bool all_same(const Image& img, const Rect& r, unsigned* colour) {
    *colour = img.pixel(r.x, r.y);
    return count_not(img, r, *colour) == 0;
}

bool has_key(const std::vector<InputCall>& calls, const std::string& method, std::int64_t qnum) {
    return std::any_of(calls.begin(), calls.end(), [&](const InputCall& c) {
        return c.method == "Keyboard." + method && !c.args.empty() && c.args[0] == qnum;
    });
}

std::optional<double> last_switch_ms(const std::string& json) {
    std::smatch m;
    static const std::regex re(R"re("last_switch_ms": ([0-9.]+))re");
    if (!std::regex_search(json, m, re))
        return std::nullopt;
    return std::stod(m[1]);
}

std::string hex(unsigned c) {
    std::ostringstream o;
    o << "0x" << std::hex << c;
    return o.str();
}

// A program running beside the test (wtype holding a key), killed when it goes.
class Background {
public:
    Background(std::vector<std::string> argv, const std::vector<std::string>& env) {
        pid_ = fork();
        if (pid_ == 0) {
            for (const auto& kv : env)
                if (auto eq = kv.find('='); eq != std::string::npos)
                    setenv(kv.substr(0, eq).c_str(), kv.substr(eq + 1).c_str(), 1);
            std::vector<char*> args;
            for (auto& a : argv)
                args.push_back(a.data());
            args.push_back(nullptr);
            execvp(args[0], args.data());
            _exit(127);
        }
    }
    ~Background() {
        if (pid_ > 0) {
            kill(pid_, SIGTERM);
            waitpid(pid_, nullptr, 0);
        }
    }
    Background(const Background&) = delete;
    Background& operator=(const Background&) = delete;
    bool running() const {
        siginfo_t info{};
        return pid_ > 0 && waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
               info.si_pid == 0;
    }

private:
    pid_t pid_ = -1;
};

// In a Switching test: runs start_shell(); the test goes on only when it worked.
#define START(...)                                                                                                   \
    do {                                                                                                             \
        start_shell(__VA_ARGS__);                                                                                    \
        if (HasFatalFailure())                                                                                       \
            return;                                                                                                  \
    } while (0)

// Two fake QEMU displays named "amber" and "teal", each on its own unix socket, both given to
// the shell with --display. Everything waits by pumping the peers' loop.
class Switching : public ::testing::Test {
protected:
    void SetUp() override {
        if (!have_program("grim") || !have_program("wtype"))
            GTEST_SKIP() << "grim or wtype is not installed";
    }
    void start_shell(const std::string& extra_config = "") {
        char tmpl[] = "/tmp/phyllome-switch-XXXXXX";
        dir_ = mkdtemp(tmpl);
        loop_ = wl_event_loop_create();
        peers_ = listen_two_fake_guests(loop_, dir_);
        ShellProcess::Options o;
        o.config_toml += "[security]\nallow_virtual_input = true\n" + extra_config;
        o.extra_args = two_fake_guests_args(dir_);
        shell_ = std::make_unique<ShellProcess>(o);
        ASSERT_TRUE(shell_->started()) << shell_->log();
        // Both displays connect; the first one attached is shown by itself.
        ASSERT_TRUE(pump_until([&] { return two_fake_guests_attached(peers_, *shell_); }, 20s))
            << shell_->status_json() << shell_->log();
        first_ = stats("amber").shown_guest;
        ASSERT_TRUE(first_ == "amber" || first_ == "teal") << shell_->status_json();
        second_ = first_ == "amber" ? "teal" : "amber";
        // Distinct solid frames.
        peer("amber").scanout(0, W, H, W * 4, FakeDisplaySession::xrgb, solid_xrgb(W, H, amber_colour));
        peer("teal").scanout(0, W, H, W * 4, FakeDisplaySession::xrgb, solid_xrgb(W, H, teal_colour));
        ASSERT_TRUE(wait_stats("teal", [](const GuestStats& g) { return g.frames >= 1; }, 10s));
        ASSERT_TRUE(wait_stats("amber", [](const GuestStats& g) { return g.frames >= 1; }, 10s));
        ASSERT_TRUE(wait_probe(colour_of(first_), 10s)) << "the first attached guest is not on screen";
    }

    void TearDown() override {
        if (shell_) {
            EXPECT_TRUE(shell_->running()) << "the shell died: " << shell_->log();
            shell_.reset(); // before the peers: the shell must not see them vanish and retry
        }
        peers_.clear();
        if (loop_)
            wl_event_loop_destroy(loop_);
        if (!dir_.empty()) {
            std::error_code ec;
            std::filesystem::remove_all(dir_, ec);
        }
    }

    static unsigned colour_of(const std::string& guest) { return guest == "amber" ? amber_colour : teal_colour; }
    FakeQemuDisplay& peer(const std::string& name) { return *peers_.at(name); }
    ShellProcess& shell() { return *shell_; }

    void pump(std::chrono::milliseconds budget) { pump_loop(loop_, budget); }
    bool pump_until(const std::function<bool()>& done, std::chrono::milliseconds deadline) {
        return pump_loop_until(loop_, done, deadline);
    }
    GuestStats stats(const std::string& guest) {
        auto s = parse_guest_stats(shell_->status_json(), guest);
        EXPECT_TRUE(s.has_value()) << shell_->status_json();
        return s.value_or(GuestStats{});
    }
    bool wait_stats(const std::string& guest, const std::function<bool(const GuestStats&)>& done,
                    std::chrono::milliseconds deadline) {
        return pump_until(
            [&] {
                auto s = parse_guest_stats(shell_->status_json(), guest);
                return s && done(*s);
            },
            deadline);
    }
    bool wait_screen(const std::function<bool(const Image&)>& done, std::chrono::milliseconds deadline,
                     std::optional<Image>* last = nullptr) {
        return pump_until(
            [&] {
                auto img = shell_->screenshot();
                if (last)
                    *last = img;
                return img && img->width == W && img->height == H && done(*img);
            },
            deadline);
    }
    bool wait_probe(unsigned colour, std::chrono::milliseconds deadline, std::optional<Image>* last = nullptr) {
        return wait_screen([&](const Image& i) { return i.pixel(probe_x, probe_y) == colour; }, deadline, last);
    }
    // Host key + `key` through a virtual keyboard.
    void host(const std::string& key) {
        auto r = shell_->wtype({"-P", "Control_R", "-k", key, "-p", "Control_R"});
        ASSERT_EQ(r.exit_code, 0) << r.err;
    }

    std::string dir_;
    wl_event_loop* loop_ = nullptr;
    FakeGuests peers_;
    std::unique_ptr<ShellProcess> shell_;
    std::string first_, second_;
};

TEST_F(Switching, HostRightShowsTheOtherGuestAndPrevGoesBack) {
    START();
    EXPECT_EQ(stats(first_).shown_guest, first_);

    host("Right");
    ASSERT_TRUE(wait_stats(first_, [&](const GuestStats& g) { return g.shown_guest == second_; }, 10s))
        << shell().status_json();
    std::optional<Image> img;
    EXPECT_TRUE(wait_probe(colour_of(second_), 10s, &img))
        << "after Host+Right the screen shows " << (img ? hex(img->pixel(probe_x, probe_y)) : "nothing");
    EXPECT_EQ(stats(second_).view, "guest");

    // The switch was timed: hotkey to the first commit with the new guest's picture.
    std::optional<double> first_switch;
    EXPECT_TRUE(pump_until([&] { return (first_switch = last_switch_ms(shell().status_json())).has_value(); }, 5s))
        << shell().status_json();
    if (first_switch) {
        EXPECT_GE(*first_switch, 0.0);
        EXPECT_LT(*first_switch, 1000.0);
        RecordProperty("last_switch_ms_host_right", std::to_string(*first_switch));
        std::printf("last_switch_ms after Host+Right: %.3f\n", *first_switch);
    }

    // phyllomectl prev goes back.
    auto r = shell().ctl({"prev"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(wait_stats(first_, [&](const GuestStats& g) { return g.shown_guest == first_; }, 10s))
        << shell().status_json();
    EXPECT_TRUE(wait_probe(colour_of(first_), 10s, &img))
        << "after prev the screen shows " << (img ? hex(img->pixel(probe_x, probe_y)) : "nothing");
    std::optional<double> second_switch;
    EXPECT_TRUE(pump_until([&] { return (second_switch = last_switch_ms(shell().status_json())).has_value(); }, 5s));
    if (second_switch)
        std::printf("last_switch_ms after phyllomectl prev: %.3f\n", *second_switch);

    // Host+Left cycles too (two guests: it is the other one), and `show NAME` picks by name.
    host("Left");
    EXPECT_TRUE(wait_stats(first_, [&](const GuestStats& g) { return g.shown_guest == second_; }, 10s))
        << shell().status_json();
    r = shell().ctl({"show", first_});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(wait_stats(first_, [&](const GuestStats& g) { return g.shown_guest == first_; }, 10s));
    EXPECT_TRUE(wait_probe(colour_of(first_), 10s));
}

TEST_F(Switching, HiddenGuestKeepsReceivingFramesButGetsNoInput) {
    START();
    const std::string shown = first_, hidden = second_;
    const GuestStats before = stats(hidden);
    const auto hidden_calls_before = peer(hidden).input_calls();

    // The hidden guest draws: the shell takes its frames, the screen keeps the shown guest.
    peer(hidden).scanout(0, W, H, W * 4, FakeDisplaySession::xrgb, solid_xrgb(W, H, green));
    peer(hidden).update(0, 0, 0, 64, 64, 64 * 4, FakeDisplaySession::xrgb, solid_xrgb(64, 64, green));
    GuestStats after;
    EXPECT_TRUE(wait_stats(hidden, [&](const GuestStats& g) { after = g; return g.frames >= before.frames + 2; }, 10s))
        << shell().status_json();
    EXPECT_EQ(after.frames, before.frames + 2);
    EXPECT_EQ(after.shown_guest, shown);

    // Typing reaches the shown guest only.
    ASSERT_EQ(shell().wtype({"b"}).exit_code, 0);
    ASSERT_TRUE(pump_until([&] { return has_key(peer(shown).input_calls(), "Release", 0x30); }, 10s))
        << "no Release of 'b' (qnum 0x30) in the shown guest";
    EXPECT_TRUE(has_key(peer(shown).input_calls(), "Press", 0x30));
    EXPECT_EQ(peer(hidden).input_calls(), hidden_calls_before) << "input reached the hidden guest";
    std::optional<Image> img;
    EXPECT_TRUE(wait_probe(colour_of(shown), 5s, &img)) << "the hidden guest's frame reached the screen";

    // Its latest frame is what appears when it is shown.
    auto r = shell().ctl({"next"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(wait_probe(green, 10s, &img))
        << "after next the screen shows " << (img ? hex(img->pixel(probe_x, probe_y)) : "nothing");
}

TEST_F(Switching, KeyHeldWhileSwitchingIsReleasedInTheGuestLeft) {
    START();
    const std::string left = first_, shown = second_;
    // 'a' goes down in the first guest and stays down while wtype lives (it lets go when its
    // virtual keyboard goes, so it must outlive the switch: 30 s, killed below).
    Background holder({"wtype", "-P", "a", "-s", "30000", "-p", "a"}, shell().client_env());
    ASSERT_TRUE(pump_until([&] { return has_key(peer(left).input_calls(), "Press", 0x1e); }, 10s))
        << "no Press of 'a' (qnum 0x1e)";
    ASSERT_FALSE(has_key(peer(left).input_calls(), "Release", 0x1e)) << "'a' was released before the switch";

    auto r = shell().ctl({"next"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    ASSERT_TRUE(wait_stats(left, [&](const GuestStats& g) { return g.shown_guest == shown; }, 10s))
        << shell().status_json();
    EXPECT_TRUE(pump_until([&] { return has_key(peer(left).input_calls(), "Release", 0x1e); }, 10s))
        << "the key held while switching stays down in the guest left";
    EXPECT_TRUE(holder.running()) << "wtype let go of 'a' itself: the release proves nothing";
    // The guest shown now never saw 'a' go down (only modifiers follow a switch).
    EXPECT_FALSE(has_key(peer(shown).input_calls(), "Press", 0x1e));
}

TEST_F(Switching, BannerNamesTheGuestAfterASwitchAndFades) {
    START();
    const unsigned frame = colour_of(second_);
    const auto switched = Clock::now();
    host("Right");
    std::optional<Image> img;
    ASSERT_TRUE(wait_probe(frame, 10s, &img)) << shell().status_json();
    const long seen_after = ms_since(switched);
    // The first screenshot with the new guest carries the banner (it stays 1200 ms).
    ASSERT_LT(seen_after, 1000) << "the screenshot came too late to judge the banner";
    const int differing = count_not(*img, banner, frame);
    EXPECT_GT(differing, banner.width * banner.height / 2)
        << "no banner over the guest: only " << differing << " pixels differ from its frame";
    EXPECT_EQ(count_not(*img, Rect{banner.x, banner.y + banner.height + 8, banner.width, 40}, frame), 0)
        << "the banner is taller than 72 px";
    unsigned bar = 0;
    EXPECT_TRUE(all_same(*img, banner_bar_probe, &bar)) << "the colour bar is not one solid colour";
    EXPECT_NE(bar, frame) << "the banner's colour bar is the frame's colour";
    EXPECT_NE(bar, 0x000000u) << "the banner's colour bar is black";
    std::printf("banner colour bar of %s: %s\n", second_.c_str(), hex(bar).c_str());

    // 1200 ms, then 6 steps of 50 ms: gone about 1.5 s after the switch.
    EXPECT_TRUE(wait_screen([&](const Image& i) { return count_not(i, banner, frame) == 0; }, 6s, &img))
        << "the banner is still there after 6 s";
    const long gone_after = ms_since(switched);
    std::printf("banner seen %ld ms after the switch, gone %ld ms after it\n", seen_after, gone_after);
    EXPECT_GE(gone_after, 1200) << "the banner went before banner_ms";
    EXPECT_LE(gone_after, 4000);
    EXPECT_EQ(img->pixel(probe_x, probe_y), frame);
}

TEST_F(Switching, EdgeShowsTheGuestColourWhileAGuestIsShown) {
    START("[identity]\nedge = true\n");
    const unsigned frame = colour_of(first_);
    const Rect edge{0, 0, 1, H}, inside{3, 0, 1, H}; // edge_width defaults to 3
    std::optional<Image> img;
    unsigned first_edge = 0;
    ASSERT_TRUE(wait_screen([&](const Image& i) { return all_same(i, edge, &first_edge) && first_edge != frame; }, 10s,
                            &img))
        << "the x = 0 column is " << (img ? hex(img->pixel(0, H / 2)) : "nothing");
    EXPECT_NE(first_edge, 0x000000u);
    EXPECT_EQ(count_not(*img, Rect{W - 1, 0, 1, H}, first_edge), 0) << "the right edge";
    EXPECT_EQ(count_not(*img, Rect{0, H - 1, W, 1}, first_edge), 0) << "the bottom edge";
    EXPECT_EQ(count_not(*img, Rect{inside.x, H / 2, 1, H / 4}, frame), 0) << "the edge is wider than 3 px";

    // The other guest: its own colour, the same one as its banner's bar, and it stays.
    host("Right");
    unsigned second_edge = 0;
    ASSERT_TRUE(wait_screen(
        [&](const Image& i) {
            return i.pixel(probe_x, probe_y) == colour_of(second_) && all_same(i, edge, &second_edge) &&
                   second_edge != first_edge;
        },
        10s, &img))
        << "the edge did not change colour with the guest";
    EXPECT_NE(second_edge, colour_of(second_));
    unsigned bar = 0;
    EXPECT_TRUE(all_same(*img, banner_bar_probe, &bar));
    EXPECT_EQ(bar, second_edge) << "banner bar and edge disagree on the guest's colour";
    // Still there after the banner has gone.
    EXPECT_TRUE(wait_screen([&](const Image& i) { return count_not(i, banner, colour_of(second_)) == 0; }, 6s, &img));
    EXPECT_EQ(count_not(*img, edge, second_edge), 0) << "the edge went with the banner";

    // The overlay has no guest: no edge.
    auto r = shell().ctl({"overlay"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(wait_screen([&](const Image& i) { return i.pixel(0, H / 2) != second_edge; }, 10s, &img))
        << "the edge stays over the overlay";
}

// libvirt's test driver with identity metadata: numbers and colours in the overlay. These
// guests have no displays, so Host+N can only say why it cannot show them.
std::string slotted_driver_xml(const std::string& dir) {
    const std::string path = dir + "/slotted.xml";
    auto domain = [](const std::string& name, const std::string& identity) {
        return "  <domain type='test'>\n    <name>" + name +
               "</name>\n    <memory>65536</memory>\n    <os><type>hvm</type></os>\n" +
               (identity.empty() ? std::string()
                                 : "    <metadata><phyllome:identity xmlns:phyllome=\"https://phyllo.me/xmlns/shell/1.0\" " +
                                       identity + "/></metadata>\n") +
               "  </domain>\n";
    };
    std::ofstream(path) << "<node>\n"
                        << domain("alpha", "") << domain("mike", R"(slot="3" colour="#00ff00")")
                        << domain("zulu", R"(slot="1" colour="#ff0000")") << "</node>\n";
    return path;
}

int reddish(const Image& img, const Rect& r) {
    int n = 0;
    for (int y = r.y; y < r.y + r.height && y < img.height; ++y)
        for (int x = r.x; x < r.x + r.width && x < img.width; ++x) {
            const unsigned p = img.pixel(x, y);
            const int red = (p >> 16) & 0xff, green = (p >> 8) & 0xff, blue = p & 0xff;
            n += red > 150 && red > green + 60 && red > blue + 60;
        }
    return n;
}

TEST(SwitchingNumbers, SlottedGuestsComeFirstInTheirColoursAndHostDigitExplains) {
    if (!have_program("grim") || !have_program("wtype"))
        GTEST_SKIP() << "grim or wtype is not installed";
    char tmpl[] = "/tmp/phyllome-numbers-XXXXXX";
    const std::string dir = mkdtemp(tmpl);
    ShellProcess::Options o;
    o.libvirt_uri = "test://" + slotted_driver_xml(dir);
    o.config_toml += "[security]\nallow_virtual_input = true\n";
    ShellProcess shell(o);
    ASSERT_TRUE(shell.started()) << shell.log();
    ASSERT_TRUE(shell.wait_for_status(R"("name": "alpha")", 10s)) << shell.status_json();

    // Rows: zulu (slot 1), mike (slot 3), then alpha (no slot: number 2), each with its colour
    // on the row's left edge.
    std::optional<Image> img;
    std::string json;
    auto edge_of = [&](const Image& i, const Rect& row) { return i.pixel(row.x + 2, row.y + row.height / 2); };
    ASSERT_TRUE(wait_until(
        [&] {
            json = shell.status_json();
            img = shell.screenshot();
            auto r0 = overlay_row(json, 0), r1 = overlay_row(json, 1), r2 = overlay_row(json, 2);
            return img && r0 && r1 && r2 && edge_of(*img, *r0) == 0xff0000 && edge_of(*img, *r1) == 0x00ff00;
        },
        10s))
        << json;
    const std::size_t zulu = json.find(R"("name": "zulu")"), mike = json.find(R"("name": "mike")"),
                      alpha = json.find(R"("name": "alpha")");
    EXPECT_LT(zulu, mike) << "status lists guests in numbering order";
    EXPECT_LT(mike, alpha);
    const Rect r2 = *overlay_row(json, 2);
    const unsigned alpha_colour = edge_of(*img, r2);
    EXPECT_NE(alpha_colour, 0xff0000u);
    EXPECT_NE(alpha_colour, 0x00ff00u);
    // The number is drawn in the guest's colour beside the bar.
    const Rect r0 = *overlay_row(json, 0);
    EXPECT_GT(reddish(*img, Rect{r0.x + 12, r0.y + 4, 24, r0.height - 8}), 10) << "no number on zulu's row";

    // Host+2 is alpha, which has no display: a notice below the list, no switch.
    const Rect below{0, r2.y + r2.height, W, H - r2.y - r2.height};
    const int red_before = reddish(*img, below);
    auto r = shell.wtype({"-P", "Control_R", "-k", "2", "-p", "Control_R"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(wait_until(
        [&] {
            img = shell.screenshot();
            return img && reddish(*img, below) > red_before + 50;
        },
        10s))
        << "no notice below the guest list after Host+2";
    json = shell.status_json();
    EXPECT_NE(json.find(R"("view": "overlay", "guest": null)"), std::string::npos) << json;
    EXPECT_TRUE(shell.running());
    EXPECT_EQ(shell.stop(), 0) << shell.log();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
}

} // namespace
} // namespace phyllome::test
