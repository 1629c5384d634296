// Issue 17: `phyllomectl move NAME URI` through the real shell. Two hosts on this machine
// (tests/guestview/guest_move_fixture.hpp: two private system libvirtds in network namespaces of
// their own, joined by a veth pair), a shell on each: the shell of host A runs in A's network
// namespace, as a session on A would, and moves the Linux test guest it shows to host B live;
// then the shell of host B shows the guest's screen, with frames coming from B's QEMU, and the
// shell of host A lists it no more. Needs root; skips like the move tests.
#include <regex>

#include "shell_process.hpp"
#include "tests/guestview/guest_move_fixture.hpp"

namespace phyllome::test {
namespace {

using namespace std::chrono_literals;
namespace mt = guestview::move_test;

// What a shell's status --json says of the moved guest; nullopt when it lists no such guest.
struct GuestSeen {
    std::string state, display;
    std::string scanout; // its JSON object, "null" when none
    unsigned long long frames = 0;
};

std::optional<GuestSeen> guest_in(const std::string& status_json) {
    static const std::regex re(std::string(R"re(\{"name": ")re") + mt::guest_name +
                               R"re(", "state": "([^"]*)", "reason": (?:null|"[^"]*"), "display": "([^"]*)", )re"
                               R"re("graphics": (?:null|"[^"]*"), "note": (?:null|"(?:[^"\\]|\\.)*"), )re"
                               R"re("scanout": (null|\{[^}]*\}), "frames": (\d+))re");
    std::smatch m;
    if (!std::regex_search(status_json, m, re))
        return std::nullopt;
    return GuestSeen{m[1].str(), m[2].str(), m[3].str(), std::stoull(m[4].str())};
}

// Frames arriving: the guest running, its display connected with a scanout, its frame count going
// up while we look. Returns the scanout, empty when that did not come before the deadline.
std::string shows_frames(const ShellProcess& shell, std::chrono::milliseconds deadline) {
    std::optional<unsigned long long> first;
    std::string scanout;
    wait_until(
        [&] {
            const auto seen = guest_in(shell.status_json());
            if (!seen || seen->state != "running" || seen->display != "connected" || seen->scanout == "null")
                return false;
            if (!first)
                first = seen->frames;
            if (seen->frames <= *first)
                return false;
            scanout = seen->scanout;
            return true;
        },
        deadline);
    return scanout;
}

class GuestMoveShell : public mt::GuestMoveQemu {};

TEST_F(GuestMoveShell, TheScreenReattachesOnTheDestinationsShellAndLeavesTheSource) {
    mt::Hosts& h = mt::hosts();
    ASSERT_NO_FATAL_FAILURE(boot_on_a());

    ShellProcess::Options on_a;
    on_a.libvirt_uri = h.a->uri();
    on_a.network_namespace_of = h.a->pid(); // the move reaches B at 10.77.0.2 from A's network only
    ShellProcess shell_a(on_a);
    ASSERT_TRUE(shell_a.started()) << shell_a.log();
    ShellProcess::Options on_b;
    on_b.libvirt_uri = h.b->uri();
    ShellProcess shell_b(on_b);
    ASSERT_TRUE(shell_b.started()) << shell_b.log();

    const auto shells_up = mt::Clock::now();
    const std::string scanout_a = shows_frames(shell_a, 120s);
    ASSERT_FALSE(scanout_a.empty()) << "A's shell does not show the guest:\n" << shell_a.status_json() << shell_a.log();
    std::cerr << "A's shell showed frames " << std::chrono::duration<double>(mt::Clock::now() - shells_up).count()
              << " s after the shells started: " << scanout_a << "\n";
    EXPECT_FALSE(guest_in(shell_b.status_json())) << shell_b.status_json();

    const auto started = mt::Clock::now();
    const CommandResult moved = run_command(
        {build_path("compositor/phyllomectl"), "move", mt::guest_name, mt::destination}, shell_a.client_env(), 600s);
    const double move_s = std::chrono::duration<double>(mt::Clock::now() - started).count();
    std::cerr << "phyllomectl move took " << move_s << " s:\n" << moved.out << moved.err << "\n";
    ASSERT_EQ(moved.exit_code, 0) << moved.out << moved.err << "\nA's shell:\n" << shell_a.log();

    // B's shell picks up the guest that arrived and shows its screen, frames coming from B.
    const auto moved_at = mt::Clock::now();
    const std::string scanout_b = shows_frames(shell_b, 120s);
    EXPECT_EQ(scanout_b, scanout_a) << "B's shell does not show the moved guest's screen:\n"
                                    << shell_b.status_json() << shell_b.log();
    std::cerr << "B's shell showed frames "
              << std::chrono::duration<double>(mt::Clock::now() - moved_at).count() << " s after the move\n";
    EXPECT_TRUE(wait_until([&] { return !guest_in(shell_a.status_json()); }, 30s))
        << "A's shell still lists the guest:\n" << shell_a.status_json();
}

} // namespace
} // namespace phyllome::test
