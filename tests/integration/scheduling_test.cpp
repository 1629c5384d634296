// The shell asks for the CPU priority a compositor needs, and nothing it starts inherits it.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "shell_process.hpp"

namespace phyllome::test {
namespace {

// Fields of /proc/PID/stat after the command name (field 3 is [0]).
std::vector<std::string> stat_fields(pid_t pid) {
    std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
    const std::string line((std::istreambuf_iterator<char>(f)), {});
    std::istringstream rest(line.substr(line.rfind(')') + 2));
    std::vector<std::string> fields;
    for (std::string field; rest >> field;)
        fields.push_back(field);
    return fields;
}
constexpr std::size_t nice_field = 19 - 3, policy_field = 41 - 3;
constexpr int sched_other = 0, sched_rr = 2;

std::string json_string(const std::string& json, const std::string& key) {
    const std::string marker = "\"" + key + "\": \"";
    const auto at = json.find(marker);
    if (at == std::string::npos)
        return {};
    const auto start = at + marker.size();
    return json.substr(start, json.find('"', start) - start);
}

TEST(Shell, AsksForRealtimePriorityThatTheLibvirtAgentDoesNotInherit) {
    ShellProcess shell({});
    ASSERT_TRUE(shell.started()) << shell.log();
    const std::string json = shell.status_json();
    const std::string scheduling = json_string(json, "scheduling");
    ASSERT_FALSE(scheduling.empty()) << json;

    const auto at = json.find(R"("agent_pid": )");
    ASSERT_NE(at, std::string::npos) << json;
    const int agent = std::atoi(json.c_str() + at + 13);
    ASSERT_GT(agent, 0) << json;
    const auto agent_stat = stat_fields(agent);
    ASSERT_GT(agent_stat.size(), policy_field);
    EXPECT_EQ(std::stoi(agent_stat[policy_field]), sched_other) << "the agent runs at the default policy";
    EXPECT_EQ(std::stoi(agent_stat[nice_field]), 0) << "the agent runs at nice 0";

    const auto shell_stat = stat_fields(shell.pid());
    ASSERT_GT(shell_stat.size(), policy_field);
    if (scheduling.starts_with("realtime")) {
        EXPECT_EQ(std::stoi(shell_stat[policy_field]), sched_rr) << scheduling;
    }
    if (geteuid() != 0) {
        GTEST_SKIP() << "not root: the shell got '" << scheduling << "'; realtime needs CAP_SYS_NICE or rtkit";
    }
    EXPECT_EQ(scheduling, "realtime") << shell.log();
}

} // namespace
} // namespace phyllome::test
