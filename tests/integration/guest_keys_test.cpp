// Every key proven on a real guest (issue 16): a Linux guest under QEMU, whose own kernel
// reports on its serial console what it made of the keys the shell sent (the test guest's
// keyboard witness, tests/bench/guest/key_reporter.c). Host+Delete arrives as the kernel's
// Ctrl+Alt+Del, Host+F2 and Host+F1 switch its virtual terminals as Ctrl+Alt+F2 and F1 do, Caps
// Lock typed on the host lights the guest's LED, and the guest turning Num Lock on by itself
// moves the host's lock state with it.
#include <gtest/gtest.h>

#include <unistd.h>

#include <string>

#include "linux_test_guest.hpp"
#include "shell_process.hpp"
#include "tests/bench/bench_guest.hpp"

namespace phyllome::test {
namespace {

using namespace std::chrono_literals;

class GuestKeys : public ::testing::Test {
protected:
    void SetUp() override {
        bench::BenchGuestSpec spec;
        if (const std::string why = linux_test_guest_missing(spec.kernel_dir, {"virsh", "wtype"}); !why.empty())
            GTEST_SKIP() << why;
        spec.embed_root = "/var/tmp/phyllome-guest-keys-embed-" + std::to_string(getuid());
        spec.name = "phyllome-guest-keys";
        spec.fps = 10;
        spec.seconds = 1;
        spec.keys_witness = true;
        guest_ = std::make_unique<bench::BenchGuest>(spec);
        const std::string error = guest_->start();
        ASSERT_TRUE(error.empty()) << error;
        ASSERT_TRUE(guest_->wait_report("phyllome-guest: keys ready", 0, 180s)) << guest_->serial_tail();

        ShellProcess::Options o;
        o.libvirt_uri = guest_->uri();
        o.config_toml += "[security]\nallow_virtual_input = true\n";
        shell_ = std::make_unique<ShellProcess>(o);
        ASSERT_TRUE(shell_->started()) << shell_->log();
        ASSERT_TRUE(wait_until(
            [&] {
                shell_->ctl({"show", spec.name});
                const std::string s = shell_->status_json();
                return s.find(R"("view": "guest")") != std::string::npos &&
                       s.find(R"("display": "connected")") != std::string::npos;
            },
            60s))
            << shell_->status_json() << shell_->log();
    }

    void TearDown() override {
        shell_.reset();
        guest_.reset();
    }

    // Sends `args` to wtype and waits for the guest to report `line` afterwards.
    ::testing::AssertionResult guest_reports(const std::vector<std::string>& args, const std::string& line) {
        const std::uint64_t mark = guest_->serial_mark();
        const auto r = shell_->wtype(args);
        if (r.exit_code != 0)
            return ::testing::AssertionFailure() << "wtype failed: " << r.err;
        if (!guest_->wait_report(line, mark, 30s))
            return ::testing::AssertionFailure() << "the guest never reported '" << line << "'; its serial console:\n"
                                                 << guest_->serial_tail() << "\nshell log:\n" << shell_->log();
        return ::testing::AssertionSuccess();
    }
    std::vector<std::string> host(const std::string& key) { return {"-P", "Control_R", "-k", key, "-p", "Control_R"}; }

    std::unique_ptr<bench::BenchGuest> guest_;
    std::unique_ptr<ShellProcess> shell_;
};

// One boot for every key path: a TCG boot costs more than all the checks.
TEST_F(GuestKeys, HostChordsArriveAsCtrlAltDelAndCtrlAltFnAndLockLedsFollowTheGuestBothWays) {
    // Host to guest: Caps Lock typed on the host lights the guest's LED.
    ASSERT_TRUE(guest_reports({"-k", "Caps_Lock"}, "phyllome-guest: leds caps=1 num=0 scroll=0"));
    // Guest to host: the guest turns Num Lock on by itself (its witness does on 'n').
    ASSERT_TRUE(guest_reports({"n"}, "phyllome-guest: leds caps=1 num=1 scroll=0"));
    EXPECT_TRUE(shell_->wait_for_status(R"("keyboard_locks": {"caps_lock": true, "num_lock": true, "scroll_lock": false})",
                                        10s))
        << "the host's locks did not follow the guest's LEDs: " << shell_->status_json();
    EXPECT_NE(shell_->status_json().find(R"("leds": {"caps_lock": true, "num_lock": true, "scroll_lock": false})"),
              std::string::npos)
        << shell_->status_json();
    // And back off from the guest's side.
    ASSERT_TRUE(guest_reports({"n"}, "phyllome-guest: leds caps=1 num=0 scroll=0"));
    EXPECT_TRUE(shell_->wait_for_status(R"("keyboard_locks": {"caps_lock": true, "num_lock": false)", 10s))
        << shell_->status_json();

    // Host+F2 and Host+F1 switch the guest's virtual terminals; Host+Delete is its Ctrl+Alt+Del.
    EXPECT_TRUE(guest_reports(host("F2"), "phyllome-guest: vt tty2"));
    EXPECT_TRUE(guest_reports(host("F1"), "phyllome-guest: vt tty1"));
    EXPECT_TRUE(guest_reports(host("Delete"), "phyllome-guest: ctrl-alt-del"));
}

} // namespace
} // namespace phyllome::test
