// The screen lock (issue 15) with real lockers: swaylock, and lock_client (a small
// ext-session-lock-v1 locker that can unlock without a password). Two fake QEMU displays record
// every input they get: while locked none reaches them, the screen shows none of their pixels,
// a locker killed leaves the session locked, and an unlock gives the guest its screen and keys
// back. The idle timeout locks by itself.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/input-event-codes.h>

#include <algorithm>
#include <filesystem>
#include <regex>
#include <sstream>

#include "fake_display_session.hpp"
#include "loop_pump.hpp"
#include "two_fake_guests_fixture.hpp"
#include "virtual_pointer.hpp"

namespace phyllome::test {
namespace {

using namespace std::chrono_literals;

constexpr unsigned amber = 0xc08020, teal = 0x208080, lock_colour = 0x2040a0;
constexpr std::int64_t qemu_left = 0, q_b = 0x30;


bool is_locked(const std::string& json) { return json.find(R"("locked": true)") != std::string::npos; }

std::optional<int> locker_pid(const std::string& json) {
    static const std::regex pid_re(R"("locker_pid": (\d+))");
    std::smatch m;
    if (!std::regex_search(json, m, pid_re))
        return std::nullopt;
    return std::stoi(m[1]);
}

std::size_t count_pixels(const Image& img, const std::function<bool(unsigned)>& match) {
    std::size_t n = 0;
    for (int y = 0; y < img.height; ++y)
        for (int x = 0; x < img.width; ++x)
            n += match(img.pixel(x, y)) ? 1 : 0;
    return n;
}
std::size_t count_colour(const Image& img, unsigned colour) {
    return count_pixels(img, [&](unsigned p) { return p == colour; });
}


// lock_client as our child, with its stdin and stdout on pipes.
class LockClient {
public:
    LockClient(const ShellProcess& shell, const std::vector<std::string>& args = {}) {
        int in[2], out[2];
        if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0)
            return;
        std::vector<std::string> argv{build_path("tests/integration/lock_client")};
        argv.insert(argv.end(), args.begin(), args.end());
        const auto env = shell.client_env();
        pid_ = fork();
        if (pid_ == 0) {
            dup2(in[0], 0);
            dup2(out[1], 1);
            for (const auto& kv : env)
                putenv(const_cast<char*>(kv.c_str()));
            std::vector<char*> c_argv;
            for (auto& a : argv)
                c_argv.push_back(a.data());
            c_argv.push_back(nullptr);
            execv(c_argv[0], c_argv.data());
            _exit(127);
        }
        close(in[0]);
        close(out[1]);
        stdin_ = in[1];
        stdout_ = out[0];
        fcntl(stdout_, F_SETFL, O_NONBLOCK);
    }
    ~LockClient() {
        if (pid_ > 0) {
            kill(pid_, SIGKILL);
            waitpid(pid_, nullptr, 0);
        }
        if (stdin_ >= 0)
            close(stdin_);
        if (stdout_ >= 0)
            close(stdout_);
    }
    LockClient(const LockClient&) = delete;
    LockClient& operator=(const LockClient&) = delete;

    // Reads what it printed so far; true if a line starts with `prefix`.
    bool said(const std::string& prefix) {
        char buf[512];
        for (ssize_t n; (n = read(stdout_, buf, sizeof buf)) > 0;)
            partial_.append(buf, static_cast<std::size_t>(n));
        for (std::size_t nl; (nl = partial_.find('\n')) != std::string::npos; partial_.erase(0, nl + 1))
            lines_.push_back(partial_.substr(0, nl));
        return std::any_of(lines_.begin(), lines_.end(), [&](const std::string& l) { return l.starts_with(prefix); });
    }
    void send(const std::string& line) { [[maybe_unused]] auto n = write(stdin_, (line + "\n").data(), line.size() + 1); }
    std::string output() const {
        std::string all;
        for (const auto& l : lines_)
            all += l + "\n";
        return all;
    }

private:
    pid_t pid_ = -1;
    int stdin_ = -1, stdout_ = -1;
    std::string partial_;
    std::vector<std::string> lines_;
};

class SessionLock : public TwoFakeGuestsTest {
protected:
    void SetUp() override {
        for (const char* tool : {"wtype", "grim"})
            if (!have_program(tool))
                GTEST_SKIP() << tool << " is not installed";
        ASSERT_NO_FATAL_FAILURE(start_with_two_guests("lock", amber, teal));
        auto s = parse_guest_stats(shell_->status_json(), "amber");
        ASSERT_TRUE(s);
        shown_ = s->shown_guest;
        ASSERT_TRUE(shown_ == "amber" || shown_ == "teal");
        shown_colour_ = shown_ == "amber" ? amber : teal;
        // The guest's picture is on screen before anything locks.
        ASSERT_TRUE(pump_until(
            [&] {
                auto img = shell_->screenshot();
                return img && img->pixel(img->width / 2, img->height / 2) == shown_colour_;
            },
            10s));
    }
    // Neither guest got any input since the marks.
    void expect_no_guest_input(std::size_t amber_from, std::size_t teal_from) {
        settle();
        EXPECT_TRUE(input_since(calls("amber"), amber_from).empty()) << describe(input_since(calls("amber"), amber_from));
        EXPECT_TRUE(input_since(calls("teal"), teal_from).empty()) << describe(input_since(calls("teal"), teal_from));
    }
    // Typing, host chords and the pointer while locked.
    void try_everything_while_locked(VirtualPointer* pointer) {
        ASSERT_EQ(shell_->wtype({"abc"}).exit_code, 0);
        host("Right");
        host("Home");
        host("Delete");
        if (pointer) {
            pointer->motion(20, 10);
            pointer->button(BTN_LEFT, true);
            pointer->button(BTN_LEFT, false);
            pointer->wheel(true, 1);
        }
    }

    std::string shown_;
    unsigned shown_colour_ = 0;
};

TEST_F(SessionLock, SwaylockLocksOnTheHostKeyStaysLockedWhenKilledAndLocksAgain) {
    if (!have_program("swaylock"))
        GTEST_SKIP() << "swaylock is not installed";
    settle();
    const std::size_t amber_from = calls("amber").size(), teal_from = calls("teal").size();

    host("l"); // Right Ctrl+L from the guest: the default lock key and locker (swaylock -c 000000)
    std::string json;
    ASSERT_TRUE(pump_until([&] { json = shell_->status_json(); return is_locked(json) && locker_pid(json); }, 15s))
        << json << shell_->log();
    // phyllomectl waits for the lock to be confirmed; it already is, or is about to be.
    auto again = shell_->ctl({"lock"});
    EXPECT_EQ(again.exit_code, 0) << again.out << again.err;
    const int first = *locker_pid(shell_->status_json());
    auto img = shell_->screenshot();
    ASSERT_TRUE(img);
    EXPECT_EQ(count_pixels(*img, [](unsigned p) { return p != 0; }), 0u)
        << "the locked screen shows something other than swaylock's black";

    try_everything_while_locked(nullptr);
    expect_no_guest_input(amber_from, teal_from); // not even the lock chord's Right Ctrl or L
    EXPECT_EQ(parse_guest_stats(shell_->status_json(), "amber")->shown_guest, shown_) << "Host+Right switched";

    // The locker dies: the session stays locked, with a hint on the blank.
    ASSERT_EQ(kill(first, SIGKILL), 0);
    ASSERT_TRUE(pump_until([&] { json = shell_->status_json(); return !locker_pid(json); }, 10s)) << json;
    EXPECT_TRUE(is_locked(json)) << json;
    img = shell_->screenshot();
    ASSERT_TRUE(img);
    EXPECT_EQ(count_colour(*img, amber) + count_colour(*img, teal), 0u) << "a guest shows after the locker died";
    EXPECT_GT(count_pixels(*img, [](unsigned p) { return p != 0; }), 0u) << "no hint on the blank";
    EXPECT_NE(shell_->log().find("went away without unlocking"), std::string::npos);
    EXPECT_EQ(shell_->log().find("before it locked"), std::string::npos) << "a locker that locked was called failed";
    const std::size_t amber_mid = calls("amber").size(), teal_mid = calls("teal").size();
    ASSERT_EQ(shell_->wtype({"xyz"}).exit_code, 0);
    expect_no_guest_input(amber_mid, teal_mid);

    // A second locker locks again; phyllomectl answers once it has.
    auto r = shell_->ctl({"lock"});
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err << shell_->log();
    EXPECT_NE(r.out.find("locked"), std::string::npos) << r.out;
    json = shell_->status_json();
    ASSERT_TRUE(locker_pid(json)) << json;
    EXPECT_NE(*locker_pid(json), first);
    EXPECT_TRUE(is_locked(json));
    img = shell_->screenshot();
    ASSERT_TRUE(img);
    EXPECT_EQ(count_pixels(*img, [](unsigned p) { return p != 0; }), 0u) << "the hint stayed over the new locker";

    // The hint's way: Host+L on the blank after this one dies too.
    const int second = *locker_pid(json);
    ASSERT_EQ(kill(second, SIGKILL), 0);
    ASSERT_TRUE(pump_until([&] { json = shell_->status_json(); return !locker_pid(json); }, 10s)) << json;
    host("l");
    ASSERT_TRUE(pump_until([&] { json = shell_->status_json(); return locker_pid(json).has_value(); }, 15s))
        << json << shell_->log();
    EXPECT_NE(*locker_pid(json), second);
    EXPECT_TRUE(is_locked(json));
    expect_no_guest_input(amber_from, teal_from);
    kill(*locker_pid(json), SIGKILL); // ours to end: the shell's stop would end it too
}

TEST_F(SessionLock, UnlockReturnsToTheGuestWithItsKeysAndNoneWhileLocked) {
    VirtualPointer pointer(runtime_dir_of(*shell_));
    ASSERT_TRUE(pointer.ok());
    // A button held in the guest when the lock comes is released, not left held.
    pointer.motion(5, 5);
    pointer.button(BTN_LEFT, true);
    settle();
    ASSERT_TRUE(has(calls(shown_), "Mouse.Press", qemu_left));
    const std::size_t held_from = calls(shown_).size();

    LockClient locker(*shell_);
    ASSERT_TRUE(pump_until([&] { return locker.said("locked"); }, 15s)) << locker.output() << shell_->log();
    EXPECT_TRUE(is_locked(shell_->status_json()));
    settle();
    EXPECT_TRUE(has(input_since(calls(shown_), held_from), "Mouse.Release", qemu_left))
        << describe(input_since(calls(shown_), held_from));
    const std::size_t amber_from = calls("amber").size(), teal_from = calls("teal").size();
    std::optional<Image> img;
    EXPECT_TRUE(pump_until(
        [&] {
            img = shell_->screenshot();
            return img && img->pixel(img->width / 2, img->height / 2) == lock_colour;
        },
        5s))
        << "the locker's surface is not shown";
    ASSERT_TRUE(img);
    EXPECT_EQ(count_colour(*img, amber) + count_colour(*img, teal), 0u);

    // A second locker while this one holds the lock is refused (`finished`), and changes nothing.
    LockClient intruder(*shell_, {"--colour", "ff0000"});
    EXPECT_TRUE(pump_until([&] { return intruder.said("finished"); }, 10s)) << intruder.output();
    EXPECT_FALSE(intruder.said("locked"));

    try_everything_while_locked(&pointer);
    pointer.button(BTN_LEFT, false);
    EXPECT_TRUE(pump_until([&] { return locker.said("key "); }, 5s)) << "the locker got no key: " << locker.output();
    expect_no_guest_input(amber_from, teal_from);

    // An output plugged in while locked is blank from its first frame; pulling it out is fine.
    auto added = shell_->ctl({"output", "add", "640x480"});
    ASSERT_EQ(added.exit_code, 0) << added.err;
    // "added output HEADLESS-2 (640x480)"
    std::string name = added.out.substr(std::string("added output ").size());
    name = name.substr(0, name.find(' '));
    ASSERT_TRUE(pump_until([&] { return shell_->status_json().find(R"("width": 640)") != std::string::npos; }, 5s));
    img = shell_->screenshot();
    ASSERT_TRUE(img);
    ASSERT_EQ(img->width, 1280 + 640); // side by side
    std::size_t other = 0; // on the new output (the first one has the host pointer on it)
    for (int y = 0; y < 480; ++y)
        for (int x = 1280; x < img->width; ++x)
            other += img->pixel(x, y) != 0 && img->pixel(x, y) != lock_colour;
    EXPECT_EQ(other, 0u) << "something other than the blank and the locker shows on the new output";
    EXPECT_EQ(count_colour(*img, amber) + count_colour(*img, teal), 0u);
    auto removed = shell_->ctl({"output", "remove", name});
    EXPECT_EQ(removed.exit_code, 0) << removed.out << removed.err;
    EXPECT_TRUE(is_locked(shell_->status_json()));

    locker.send("unlock");
    ASSERT_TRUE(pump_until([&] { return locker.said("unlocked"); }, 10s)) << locker.output();
    ASSERT_TRUE(pump_until([&] { return !is_locked(shell_->status_json()); }, 5s));
    EXPECT_EQ(parse_guest_stats(shell_->status_json(), "amber")->shown_guest, shown_);
    EXPECT_TRUE(pump_until(
        [&] {
            img = shell_->screenshot();
            return img && img->pixel(img->width / 2, img->height / 2) == shown_colour_;
        },
        5s))
        << "the guest is not shown again after the unlock";
    settle();
    const std::size_t after = calls(shown_).size();
    ASSERT_EQ(shell_->wtype({"b"}).exit_code, 0);
    settle();
    EXPECT_TRUE(has(input_since(calls(shown_), after), "Keyboard.Press", q_b))
        << "the guest gets no keys after the unlock: " << describe(input_since(calls(shown_), after));
}

TEST(SessionLockLocker, UnlockReturnsToTheOverlayAsItWas) {
    if (!have_program("grim"))
        GTEST_SKIP() << "grim is not installed";
    ShellProcess shell({});
    ASSERT_TRUE(shell.started()) << shell.log();
    const auto globals = wayland_globals(runtime_dir_of(shell));
    EXPECT_EQ(globals.count("ext_session_lock_manager_v1"), 1u);
    EXPECT_EQ(globals.count("ext_idle_notifier_v1"), 1u);
    const unsigned overlay_background = 0x1b1d23;
    auto before = shell.screenshot();
    ASSERT_TRUE(before);
    ASSERT_GT(count_colour(*before, overlay_background), before->rgb.size() / 3 / 2) << "no overlay to begin with";

    LockClient locker(shell, {"--colour", "102030"});
    ASSERT_TRUE(wait_until([&] { return locker.said("locked"); }, 15s)) << locker.output() << shell.log();
    std::optional<Image> locked;
    EXPECT_TRUE(wait_until(
        [&] {
            locked = shell.screenshot();
            return locked && count_colour(*locked, 0x102030) == locked->rgb.size() / 3;
        },
        5s))
        << "the locker does not fill the output";
    ASSERT_TRUE(locked);
    EXPECT_EQ(count_colour(*locked, overlay_background), 0u) << "the overlay shows through the lock";

    locker.send("unlock");
    ASSERT_TRUE(wait_until([&] { return locker.said("unlocked"); }, 10s)) << locker.output();
    std::optional<Image> after;
    EXPECT_TRUE(wait_until(
        [&] {
            after = shell.screenshot();
            return after && after->rgb == before->rgb;
        },
        5s))
        << "the overlay is not as it was before the lock";
}

TEST(SessionLockLocker, ALockerThatFailsIsReportedAndNothingLocks) {
    ShellProcess::Options o;
    o.config_toml += "[lock]\ncommand = \"echo no display >&2; exit 3\"\n";
    ShellProcess shell(o);
    ASSERT_TRUE(shell.started()) << shell.log();
    EXPECT_NE(shell.status_json().find(R"("idle_timeout_s": 600)"), std::string::npos) << "the desktop default";
    auto r = shell.ctl({"lock"});
    EXPECT_NE(r.exit_code, 0) << r.out;
    EXPECT_NE((r.out + r.err).find("exited with status 3"), std::string::npos) << r.out << r.err;
    const std::string json = shell.status_json();
    EXPECT_FALSE(is_locked(json)) << json;
    EXPECT_NE(json.find("Cannot lock the screen"), std::string::npos) << "no notice on the overlay: " << json;
    EXPECT_NE(shell.log().find("exited with status 3"), std::string::npos);
}

TEST(SessionLockIdle, AnIdleTimeoutLocksByItself) {
    ShellProcess::Options o;
    o.config_toml += "[lock]\nidle_timeout_s = 1\ncommand = \"" + build_path("tests/integration/lock_client") +
                     " --no-stdin\"\n";
    ShellProcess shell(o);
    ASSERT_TRUE(shell.started()) << shell.log();
    std::string json;
    ASSERT_TRUE(wait_until([&] { json = shell.status_json(); return is_locked(json) && locker_pid(json); }, 15s))
        << json << shell.log();
    EXPECT_NE(json.find(R"("idle_timeout_s": 1)"), std::string::npos) << json;
    EXPECT_NE(shell.log().find("no input for 1 s"), std::string::npos) << shell.log();
    auto img = shell.screenshot();
    ASSERT_TRUE(img);
    EXPECT_EQ(img->pixel(img->width / 2, img->height / 2), lock_colour);
}

} // namespace
} // namespace phyllome::test
