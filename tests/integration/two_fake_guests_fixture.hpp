// A test fixture for the real shell showing two fake guests ("amber" and "teal", see
// two_fake_guests.hpp) whose peers record every input call: what the input isolation and screen
// lock tests share, with the helpers that read those calls.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "loop_pump.hpp"
#include "fake_display_session.hpp"
#include "two_fake_guests.hpp"

namespace phyllome::test {

using guestview::testing::InputCall;

inline std::string runtime_dir_of(const ShellProcess& shell) {
    for (const auto& kv : shell.client_env())
        if (kv.starts_with("XDG_RUNTIME_DIR="))
            return kv.substr(16);
    return {};
}

inline bool has(const std::vector<InputCall>& calls, const std::string& method, std::optional<std::int64_t> arg0 = {}) {
    return std::any_of(calls.begin(), calls.end(), [&](const InputCall& c) {
        return c.method == method && (!arg0 || (!c.args.empty() && c.args[0] == *arg0));
    });
}

// Calls after the first `from`, without SetUIInfo (sizes, not input).
inline std::vector<InputCall> input_since(const std::vector<InputCall>& calls, std::size_t from) {
    std::vector<InputCall> out;
    for (std::size_t i = from; i < calls.size(); ++i)
        if (calls[i].method != "Console.SetUIInfo")
            out.push_back(calls[i]);
    return out;
}

inline std::string describe(const std::vector<InputCall>& calls) {
    std::ostringstream out;
    for (const auto& c : calls) {
        out << c.method << "(";
        for (std::size_t i = 0; i < c.args.size(); ++i)
            out << (i ? "," : "") << c.args[i];
        out << ") ";
    }
    return out.str();
}

class TwoFakeGuestsTest : public ::testing::Test {
protected:
    // The shell with both guests attached, each with a frame in its colour; `name` names the
    // temporary folder of their sockets.
    void start_with_two_guests(const std::string& name, unsigned amber_colour, unsigned teal_colour,
                               const std::string& more_toml = "") {
        std::string tmpl = "/tmp/phyllome-" + name + "-XXXXXX";
        ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
        dir_ = tmpl;
        loop_ = wl_event_loop_create();
        peers_ = listen_two_fake_guests(loop_, dir_);
        std::string error;
        shell_ = start_shell_with_two_fake_guests(loop_, peers_, dir_, amber_colour, teal_colour, error, more_toml);
        ASSERT_TRUE(shell_) << error;
    }
    void TearDown() override {
        if (shell_) {
            EXPECT_TRUE(shell_->running()) << "the shell died: " << shell_->log();
            shell_.reset();
        }
        peers_.clear();
        if (loop_)
            wl_event_loop_destroy(loop_);
        std::error_code ec;
        if (!dir_.empty())
            std::filesystem::remove_all(dir_, ec);
    }

    void pump(std::chrono::milliseconds budget) { pump_loop(loop_, budget); }
    bool pump_until(const std::function<bool()>& done, std::chrono::milliseconds deadline) {
        return pump_loop_until(loop_, done, deadline);
    }
    std::string shown_guest() {
        auto s = parse_guest_stats(shell_->status_json(), "amber");
        return s ? s->shown_guest : "";
    }
    const std::vector<InputCall>& calls(const std::string& guest) { return peers_.at(guest)->input_calls(); }
    // The shell has had every message it sent delivered: a status round trip, then pumping
    // until the peers' counts are stable for a moment (D-Bus calls are asynchronous).
    void settle() {
        using namespace std::chrono_literals;
        shell_->ctl({"status"});
        std::size_t a = calls("amber").size(), t = calls("teal").size();
        for (int quiet = 0; quiet < 5;) {
            pump(20ms);
            const std::size_t a2 = calls("amber").size(), t2 = calls("teal").size();
            quiet = (a2 == a && t2 == t) ? quiet + 1 : 0;
            a = a2;
            t = t2;
        }
    }
    // Host (Right Ctrl) + `key`, through wtype.
    void host(const std::string& key) {
        auto r = shell_->wtype({"-P", "Control_R", "-k", key, "-p", "Control_R"});
        ASSERT_EQ(r.exit_code, 0) << r.err;
    }

    std::string dir_;
    wl_event_loop* loop_ = nullptr;
    FakeGuests peers_;
    std::unique_ptr<ShellProcess> shell_;
};

} // namespace phyllome::test
