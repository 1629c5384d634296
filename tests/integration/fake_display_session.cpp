#include "fake_display_session.hpp"

#include "loop_pump.hpp"

#include <stdlib.h>

#include <filesystem>
#include <regex>

namespace phyllome::test {
namespace {

using Clock = std::chrono::steady_clock;

std::optional<std::string> match(const std::string& text, std::size_t from, const std::string& pattern) {
    std::smatch m;
    const std::regex re(pattern);
    if (!std::regex_search(text.begin() + static_cast<long>(from), text.end(), m, re))
        return std::nullopt;
    return m[1].str();
}

std::uint64_t number(const std::string& text, std::size_t from, const std::string& key) {
    auto v = match(text, from, "\"" + key + "\": (\\d+)");
    return v ? std::stoull(*v) : 0;
}

std::optional<double> decimal(const std::string& text, std::size_t from, const std::string& key) {
    auto v = match(text, from, "\"" + key + "\": (null|[-0-9.]+)");
    if (!v || *v == "null")
        return std::nullopt;
    return std::stod(*v);
}

} // namespace

std::optional<GuestStats> parse_guest_stats(const std::string& json, const std::string& guest) {
    const std::size_t at = json.find("{\"name\": \"" + guest + "\"");
    if (at == std::string::npos)
        return std::nullopt;
    GuestStats s;
    s.view = match(json, 0, R"re("view": "([a-z]+)")re").value_or("");
    s.shown_guest = match(json, 0, R"re("guest": "([^"]*)")re").value_or("");
    s.display = match(json, at, R"re("display": "([a-z]+)")re").value_or("");
    // The guest's own entry ends where "present_ms" closes; search only inside it for the scanout.
    const std::size_t end = json.find("\"present_ms\"", at);
    const std::string entry = json.substr(at, end == std::string::npos ? std::string::npos : end - at);
    std::smatch m;
    static const std::regex scanout_re(R"re("scanout": \{"width": (\d+), "height": (\d+), "path": "([a-z]+)"\})re");
    if (std::regex_search(entry, m, scanout_re)) {
        s.scanout_width = std::stoi(m[1]);
        s.scanout_height = std::stoi(m[2]);
        s.scanout_path = m[3];
    }
    s.frames = number(json, at, "frames");
    s.copies = number(json, at, "copies");
    s.bytes_copied = number(json, at, "bytes_copied");
    s.refused = number(json, at, "refused");
    s.frames_presented = number(json, at, "frames_presented");
    s.present_p50_ms = decimal(json, at, "p50");
    s.present_p99_ms = decimal(json, at, "p99");
    s.cpu_ms = decimal(json, at, "cpu_ms").value_or(0);
    s.rss_kb = static_cast<long>(number(json, at, "rss_kb"));
    s.frame_buffers_kb = static_cast<long>(number(json, at, "frame_buffers_kb"));
    const std::size_t outputs = json.find("\"outputs\": [");
    if (outputs != std::string::npos) {
        s.output_scanout = match(json, outputs, R"re("scanout": (true|false))re").value_or("") == "true";
        s.scanout_commits = number(json, outputs, "scanout_commits");
    }
    return s;
}

void put_xrgb(std::uint8_t* p, unsigned rgb, std::uint8_t x) {
    p[0] = rgb & 0xff;
    p[1] = (rgb >> 8) & 0xff;
    p[2] = (rgb >> 16) & 0xff;
    p[3] = x;
}

std::vector<std::uint8_t> solid_xrgb(int w, int h, unsigned rgb) {
    std::vector<std::uint8_t> data(static_cast<std::size_t>(w) * h * 4);
    for (std::size_t i = 0; i < data.size(); i += 4)
        put_xrgb(&data[i], rgb);
    return data;
}

FakeDisplaySession::FakeDisplaySession(Options options) : options_(std::move(options)) {
    char tmpl[] = "/tmp/phyllome-fake-XXXXXX";
    dir_ = mkdtemp(tmpl);
    socket_path_ = dir_ + "/display.sock";
    loop_ = wl_event_loop_create();
    restart_peer();

    ShellProcess::Options o;
    o.config_toml = "[output.HEADLESS-1]\nmode = \"" + std::to_string(options_.output_width) + "x" +
                    std::to_string(options_.output_height) + "\"\n" + options_.extra_config;
    o.extra_args = {"--display", std::string(guest) + "=unix:path=" + socket_path_};
    shell_ = std::make_unique<ShellProcess>(o);
}

FakeDisplaySession::~FakeDisplaySession() {
    shell_.reset(); // first: the shell must not see the peer vanish and retry
    peer_.reset();
    wl_event_loop_destroy(loop_);
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
}

void FakeDisplaySession::drop_peer() { peer_.reset(); }

void FakeDisplaySession::restart_peer() {
    peer_.reset(); // its destructor unlinks the path, so it goes before the new one binds
    peer_ = std::make_unique<guestview::testing::FakeQemuDisplay>(loop_, "fake-vm",
                                                                  options_.consoles.empty() ? std::vector{options_.console}
                                                                                            : options_.consoles);
    peer_->listen_unix(socket_path_);
}

bool FakeDisplaySession::wait_attached(std::chrono::milliseconds deadline) {
    return shell_->started() && pump_until(
                                    [&] {
                                        if (!peer_ || !peer_->listener_connected(0))
                                            return false;
                                        auto s = stats();
                                        return s && s->display == "connected" && s->view == "guest" &&
                                               s->shown_guest == guest;
                                    },
                                    deadline);
}

void FakeDisplaySession::pump(std::chrono::milliseconds budget) { pump_loop(loop_, budget); }

bool FakeDisplaySession::pump_until(const std::function<bool()>& done, std::chrono::milliseconds deadline) {
    return pump_loop_until(loop_, done, deadline);
}

std::optional<GuestStats> FakeDisplaySession::stats() { return parse_guest_stats(shell_->status_json(), guest); }

bool FakeDisplaySession::wait_stats(const std::function<bool(const GuestStats&)>& done,
                                    std::chrono::milliseconds deadline, GuestStats* last) {
    return pump_until(
        [&] {
            auto s = stats();
            if (s && last)
                *last = *s;
            return s && done(*s);
        },
        deadline);
}

bool FakeDisplaySession::wait_screen(const std::function<bool(const Image&)>& done,
                                     std::chrono::milliseconds deadline, std::optional<Image>* last) {
    return pump_until(
        [&] {
            auto img = shell_->screenshot();
            if (last)
                *last = img;
            return img && done(*img);
        },
        deadline);
}

} // namespace phyllome::test
