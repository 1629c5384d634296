// AgentInventory with the real phyllome-libvirt-agent on libvirt's test driver: what the shell
// sees through the agent, and what happens when the agent dies or misbehaves.
#include "guestview/agent_inventory.hpp"

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <sys/stat.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/log.hpp"
#include "tests/guestview/installer_iso.hpp"
#include "tests/guestview/test_support.hpp"

namespace phyllome::guestview {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using testing::make_loop;
using testing::pump_until;

std::string built_agent() {
    const char* root = std::getenv("PHYLLOME_BUILD_ROOT");
    return std::string{root ? root : "."} + "/agent/phyllome-libvirt-agent";
}

class AgentInventoryTest : public ::testing::Test {
protected:
    void open(std::string path = built_agent(), std::string uri = "test:///default",
              std::chrono::milliseconds quiet_limit = 10s) {
        inventory = std::make_unique<AgentInventory>(
            loop.get(), std::move(uri),
            GuestInventory::Callbacks{[this] { ++changes; },
                                      [this](const ActionResult& result) { results.push_back(result); }},
            std::move(path), config::LogLevel::Warning, quiet_limit);
    }

    bool wait_connected() {
        return pump_until(loop.get(), [&] {
            return inventory->status().state == ConnectionState::Connected && inventory->find("test") != nullptr;
        });
    }

    ActionResult run(Action action, const std::string& guest) {
        const std::size_t before = results.size();
        inventory->request(action, guest);
        EXPECT_EQ(results.size(), before) << "results arrive from the loop, not inside request()";
        EXPECT_TRUE(pump_until(loop.get(), [&] { return results.size() > before; }));
        return results.size() > before ? results.back() : ActionResult{action, guest, false, "timed out"};
    }

    GuestState state_of(const std::string& name) const {
        const GuestInfo* g = inventory->find(name);
        return g ? g->state : GuestState::Unknown;
    }

    testing::LoopPtr loop = make_loop();
    int changes = 0;
    std::vector<ActionResult> results;
    std::unique_ptr<AgentInventory> inventory; // after the loop: destroyed first
};

TEST_F(AgentInventoryTest, SeesTheTestDriversGuestAndRunsActionsThroughTheAgent) {
    open();
    EXPECT_EQ(changes, 0) << "no callback inside the constructor";
    EXPECT_NE(inventory->status().state, ConnectionState::Connected) << "the agent has not answered yet";
    EXPECT_GT(inventory->agent_pid(), 0);
    ASSERT_TRUE(wait_connected());
    EXPECT_EQ(inventory->status().uri, "test:///default");
    EXPECT_EQ(state_of("test"), GuestState::Running);
    EXPECT_FALSE(inventory->find("test")->uuid.empty());

    ActionResult r = run(Action::Shutdown, "test");
    EXPECT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.action, Action::Shutdown);
    EXPECT_TRUE(pump_until(loop.get(), [&] { return state_of("test") == GuestState::ShutOff; }));
    r = run(Action::Start, "test");
    EXPECT_TRUE(r.ok) << r.error;
    EXPECT_TRUE(pump_until(loop.get(), [&] { return state_of("test") == GuestState::Running; }));
    r = run(Action::ForceOff, "test");
    EXPECT_TRUE(r.ok) << r.error;
    EXPECT_TRUE(pump_until(loop.get(), [&] { return state_of("test") == GuestState::ShutOff; }));

    r = run(Action::Start, "nosuch");
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.guest, "nosuch");
    EXPECT_THAT(r.error, HasSubstr("no guest named 'nosuch'"));
}

TEST_F(AgentInventoryTest, SetIdentityIsVisibleBeforeItsAnswer) {
    open();
    ASSERT_TRUE(wait_connected());
    std::optional<bool> ok;
    std::optional<int> slot_seen;
    inventory->set_identity("test", 4, 0x123456, [&](bool success, std::string error) {
        EXPECT_TRUE(success) << error;
        ok = success;
        slot_seen = inventory->find("test")->slot;
    });
    EXPECT_FALSE(ok.has_value()) << "never inside the call";
    ASSERT_TRUE(pump_until(loop.get(), [&] { return ok.has_value(); }));
    EXPECT_EQ(slot_seen, 4);
    EXPECT_EQ(inventory->find("test")->colour, 0x123456u);

    std::string error;
    bool answered = false;
    inventory->set_identity("nosuch", 1, std::nullopt, [&](bool success, std::string e) {
        EXPECT_FALSE(success);
        error = std::move(e);
        answered = true;
    });
    ASSERT_TRUE(pump_until(loop.get(), [&] { return answered; }));
    EXPECT_THAT(error, HasSubstr("no guest named 'nosuch'"));
}

TEST_F(AgentInventoryTest, UsbRequestsCrossTheSocket) {
    open();
    ASSERT_TRUE(wait_connected());
    const std::vector<usb::UsbChoice> choices{{{"0781:5581", "4C530001"}, true}, {{"046d:c52b", ""}, false}};
    std::optional<bool> ok;
    std::vector<usb::UsbChoice> seen;
    inventory->set_usb_choices("test", choices, [&](bool success, std::string error) {
        EXPECT_TRUE(success) << error;
        ok = success;
        seen = inventory->find("test")->usb_choices;
    });
    EXPECT_FALSE(ok.has_value()) << "never inside the call";
    ASSERT_TRUE(pump_until(loop.get(), [&] { return ok.has_value(); }));
    EXPECT_EQ(seen, choices) << "the state crossed before the answer";

    // The test guest has no such device: taking it back is ok.
    std::optional<std::pair<bool, std::string>> detached;
    inventory->detach_usb("test", {0x0781, 0x5581, 1, 5}, [&](bool success, std::string error) {
        detached.emplace(success, std::move(error));
    });
    ASSERT_TRUE(pump_until(loop.get(), [&] { return detached.has_value(); }));
    EXPECT_TRUE(detached->first) << detached->second;

    std::optional<std::pair<bool, std::string>> attached;
    inventory->attach_usb("nosuch", {0x0781, 0x5581, 1, 5}, [&](bool success, std::string error) {
        attached.emplace(success, std::move(error));
    });
    ASSERT_TRUE(pump_until(loop.get(), [&] { return attached.has_value(); }));
    EXPECT_FALSE(attached->first);
    EXPECT_THAT(attached->second, HasSubstr("no guest named 'nosuch'"));
    ok.reset();
    inventory->set_usb_choices("test", {}, [&](bool success, std::string) { ok = success; });
    ASSERT_TRUE(pump_until(loop.get(), [&] { return ok.has_value(); }));
    EXPECT_TRUE(*ok);
    EXPECT_TRUE(inventory->find("test")->usb_choices.empty());
}

TEST_F(AgentInventoryTest, ScreenshotAndGraphicsAnswersCrossTheSocket) {
    open();
    ASSERT_TRUE(wait_connected());
    std::optional<std::string> image, error;
    inventory->screenshot("test", 0, [&](std::string bytes, std::string mime, std::string e) {
        image = std::move(bytes);
        error = std::move(e);
    });
    ASSERT_TRUE(pump_until(loop.get(), [&] { return image.has_value(); }));
    EXPECT_TRUE(!image->empty() || !error->empty()) << "an image or a reason";
    bool graphics_done = false;
    inventory->open_graphics("nosuch", 0, [&](int fd, std::string e) {
        EXPECT_EQ(fd, -1);
        EXPECT_THAT(e, HasSubstr("nosuch"));
        graphics_done = true;
    });
    EXPECT_TRUE(pump_until(loop.get(), [&] { return graphics_done; }));
}

// The new-guest card's question: the agent recognises the installer (libosinfo) and answers
// with the OS, the sizes and what the disk will be, making nothing.
TEST_F(AgentInventoryTest, APlanNamesTheOsOnTheInstallerAndDefinesNothing) {
    if (!testing::have_program("xorriso"))
        GTEST_SKIP() << "xorriso is missing";
    testing::TempDir dir;
    std::string error;
    const std::string iso = testing::make_installer_iso(dir.path(), "debian.iso", testing::debian12_ids(), error);
    ASSERT_FALSE(iso.empty()) << error;
    open();
    ASSERT_TRUE(wait_connected());
    const std::size_t guests_before = inventory->guests().size();
    GuestSpec spec;
    spec.name = "planned";
    spec.iso_path = iso;
    spec.disk_dir = dir.path().string();
    std::optional<PlanView> plan;
    inventory->plan(spec, [&](PlanView view) { plan = std::move(view); });
    EXPECT_FALSE(plan) << "never inside the call";
    ASSERT_TRUE(pump_until(loop.get(), [&] { return plan.has_value(); }, 20s));
    EXPECT_EQ(plan->problem, "");
    if (plan->os_id.empty())
        GTEST_SKIP() << "osinfo-db is missing: " << (plan->notes.empty() ? "" : plan->notes.back());
    EXPECT_EQ(plan->os_id, "debian12");
    EXPECT_EQ(plan->os_name, "Debian 12");
    // The test driver's host has 3 GB: half of it, above Debian's minimum.
    EXPECT_EQ(plan->memory_mb, 1536);
    EXPECT_GE(plan->memory_mb, plan->min_memory_mb);
    EXPECT_GE(plan->cpus, 2);
    EXPECT_GE(plan->disk_gb, 20);
    EXPECT_GE(plan->free_disk_gb, 0);
    EXPECT_EQ(inventory->guests().size(), guests_before);
    EXPECT_FALSE(std::filesystem::exists(dir.path() / "planned.qcow2"));

    spec.iso_path = (dir.path() / "missing.iso").string();
    plan.reset();
    inventory->plan(spec, [&](PlanView view) { plan = std::move(view); });
    ASSERT_TRUE(pump_until(loop.get(), [&] { return plan.has_value(); }, 20s));
    EXPECT_THAT(plan->problem, HasSubstr("does not exist"));
}

TEST_F(AgentInventoryTest, AKilledAgentIsReportedAndRestartedAndTheGuestsComeBack) {
    open();
    ASSERT_TRUE(wait_connected());
    const pid_t first = inventory->agent_pid();
    ASSERT_EQ(kill(first, SIGKILL), 0);
    ASSERT_TRUE(pump_until(loop.get(), [&] {
        return inventory->status().error.find("restarting") != std::string::npos;
    }));
    EXPECT_EQ(inventory->status().state, ConnectionState::Failed);
    EXPECT_EQ(inventory->status().error, "libvirt agent stopped (killed by signal 9); restarting in 1 s");
    EXPECT_EQ(inventory->status().retry_in, 1000ms);
    EXPECT_TRUE(inventory->guests().empty());
    // Asked while it is down: a clean failure, from the loop.
    const ActionResult r = run(Action::Start, "test");
    EXPECT_FALSE(r.ok);
    EXPECT_THAT(r.error, HasSubstr("not connected"));

    ASSERT_TRUE(wait_connected()) << inventory->status().error;
    EXPECT_NE(inventory->agent_pid(), first);
    EXPECT_EQ(state_of("test"), GuestState::Running) << "a fresh test driver";
    const auto before = std::chrono::steady_clock::now();
    inventory.reset();
    EXPECT_LT(std::chrono::steady_clock::now() - before, 2s) << "the restarted agent exits on the hang-up too";
}

TEST_F(AgentInventoryTest, DestroyedWithRequestsInFlightRunsNoCallbacks) {
    open();
    ASSERT_TRUE(wait_connected());
    auto calls = std::make_shared<int>(0);
    inventory->request(Action::Shutdown, "test");
    inventory->screenshot("test", 0, [calls](std::string, std::string, std::string) { ++*calls; });
    inventory->set_identity("test", 2, std::nullopt, [calls](bool, std::string) { ++*calls; });
    inventory->open_graphics("test", 0, [calls](int fd, std::string) {
        if (fd >= 0)
            close(fd);
        ++*calls;
    });
    const std::size_t results_before = results.size();
    const pid_t agent = inventory->agent_pid();
    const auto before = std::chrono::steady_clock::now();
    inventory.reset();
    // The agent exits by itself on the hang-up, not after the destructor's 5 s and a SIGKILL.
    EXPECT_LT(std::chrono::steady_clock::now() - before, 2s);
    testing::pump_for(loop.get(), 300ms);
    EXPECT_EQ(*calls, 0);
    EXPECT_EQ(results.size(), results_before);
    EXPECT_NE(kill(agent, 0), 0) << "the agent has exited and been reaped";
}

TEST_F(AgentInventoryTest, AMalformedMessageKillsTheAgentAndRestartsItWithBackoff) {
    testing::TempDir dir;
    const auto script = dir.path() / "garbage-agent";
    {
        std::ofstream f(script);
        // A frame of 5 bytes whose type no reply has, then silence.
        f << "#!/bin/sh\nprintf '\\005\\000\\000\\000\\377abcd' >&3\nexec sleep 60\n";
    }
    ASSERT_EQ(chmod(script.c_str(), 0755), 0);
    open(script.string());
    ASSERT_TRUE(pump_until(loop.get(), [&] {
        return inventory->status().error.find("restarting in 1 s") != std::string::npos;
    }));
    EXPECT_EQ(inventory->status().error,
              "libvirt agent stopped (a malformed message; killed by signal 9); restarting in 1 s");
    // Restarted, misbehaves again: the delay doubles.
    ASSERT_TRUE(pump_until(loop.get(), [&] {
        return inventory->status().error.find("restarting in 2 s") != std::string::npos;
    }));
}

TEST_F(AgentInventoryTest, AMissingAgentProgramFailsCleanly) {
    open("/nonexistent/phyllome-libvirt-agent");
    EXPECT_EQ(inventory->status().state, ConnectionState::Failed);
    EXPECT_THAT(inventory->status().error, HasSubstr("cannot start"));
    EXPECT_EQ(inventory->agent_pid(), -1);
    bool done = false;
    inventory->adopt("test", [&](bool ok, std::string error) {
        EXPECT_FALSE(ok);
        EXPECT_THAT(error, HasSubstr("not connected"));
        done = true;
    });
    EXPECT_FALSE(done);
    EXPECT_TRUE(pump_until(loop.get(), [&] { return done; }));
    EXPECT_GE(changes, 1);
}

TEST_F(AgentInventoryTest, ADaemonThatNeverAnswersIsNamedWhileTheShellKeepsWaiting) {
    // Like a hung libvirtd: connections wait in the socket's backlog and nothing ever answers.
    const testing::TempDir dir;
    testing::SocketFile daemon{dir.path() / "libvirt-sock"};
    daemon.listen();
    open(built_agent(), "test+unix:///default?socket=" + (dir.path() / "libvirt-sock").string(), 300ms);
    ASSERT_TRUE(pump_until(loop.get(), [&] { return !inventory->status().error.empty(); }))
        << "no notice that libvirt is silent";
    EXPECT_EQ(inventory->status().state, ConnectionState::Connecting) << inventory->status().error;
    EXPECT_THAT(inventory->status().error, HasSubstr("no answer for 0.3 s"));
    EXPECT_GT(inventory->agent_pid(), 0) << "the agent is waiting, not dead";

    // The daemon goes away: libvirt's call fails, and the agent's answer replaces the notice.
    daemon.close();
    EXPECT_TRUE(pump_until(loop.get(), [&] { return inventory->status().state == ConnectionState::Failed; }))
        << inventory->status().error;
    EXPECT_THAT(inventory->status().error, ::testing::Not(HasSubstr("no answer")));
}

} // namespace
} // namespace phyllome::guestview
