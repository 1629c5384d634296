#include "two_fake_guests.hpp"

#include "fake_display_session.hpp"
#include "loop_pump.hpp"

namespace phyllome::test {

FakeGuests listen_two_fake_guests(wl_event_loop* loop, const std::string& dir) {
    FakeGuests guests;
    for (const char* name : {"amber", "teal"}) {
        auto peer = std::make_unique<guestview::testing::FakeQemuDisplay>(
            loop, std::string(name) + "-vm", std::vector{guestview::testing::FakeConsoleConfig{}});
        peer->listen_unix(dir + "/" + name + ".sock");
        guests[name] = std::move(peer);
    }
    return guests;
}

std::vector<std::string> two_fake_guests_args(const std::string& dir) {
    return {"--display", "amber=unix:path=" + dir + "/amber.sock", "--display", "teal=unix:path=" + dir + "/teal.sock"};
}

bool two_fake_guests_attached(const FakeGuests& guests, ShellProcess& shell) {
    if (!guests.at("amber")->listener_connected(0) || !guests.at("teal")->listener_connected(0))
        return false;
    const std::string json = shell.status_json();
    auto a = parse_guest_stats(json, "amber"), t = parse_guest_stats(json, "teal");
    return a && t && a->display == "connected" && t->display == "connected" && a->view == "guest";
}

void paint_two_fake_guests(FakeGuests& guests, unsigned amber_colour, unsigned teal_colour) {
    for (auto& [name, peer] : guests) {
        std::vector<std::uint8_t> frame(1280 * 800 * 4);
        for (std::size_t i = 0; i < frame.size(); i += 4)
            put_xrgb(&frame[i], name == "amber" ? amber_colour : teal_colour);
        peer->scanout(0, 1280, 800, 1280 * 4, FakeDisplaySession::xrgb, frame);
    }
}

bool two_fake_guests_painted(ShellProcess& shell) {
    const std::string json = shell.status_json();
    auto a = parse_guest_stats(json, "amber"), t = parse_guest_stats(json, "teal");
    return a && t && a->frames >= 1 && t->frames >= 1;
}

std::unique_ptr<ShellProcess> start_shell_with_two_fake_guests(wl_event_loop* loop, FakeGuests& guests,
                                                                const std::string& dir, unsigned amber_colour,
                                                                unsigned teal_colour, std::string& error,
                                                                const std::string& more_toml) {
    using namespace std::chrono_literals;
    ShellProcess::Options o;
    o.config_toml += "[security]\nallow_virtual_input = true\n" + more_toml;
    o.extra_args = two_fake_guests_args(dir);
    auto shell = std::make_unique<ShellProcess>(o);
    if (!shell->started()) {
        error = "the shell did not start: " + shell->log();
        return nullptr;
    }
    if (!pump_loop_until(loop, [&] { return two_fake_guests_attached(guests, *shell); }, 20s)) {
        error = "the fake guests did not attach: " + shell->log();
        return nullptr;
    }
    paint_two_fake_guests(guests, amber_colour, teal_colour);
    if (!pump_loop_until(loop, [&] { return two_fake_guests_painted(*shell); }, 10s)) {
        error = "the fake guests' frames did not arrive: " + shell->status_json();
        return nullptr;
    }
    return shell;
}

} // namespace phyllome::test
