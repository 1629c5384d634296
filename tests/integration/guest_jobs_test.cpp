// Issue 17: long jobs through the real shell, its libvirt agent and phyllomectl, on the embedded
// libvirt: a guest made by `phyllomectl create` (a blank 1 GB disk given 256 MiB of data with
// qemu-io), duplicated with progress to the end; duplicated again and cancelled with Ctrl+C, which
// leaves nothing; a finished job's bar on the overlay; jobs, cancel and the refusals.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <regex>
#include <string>

#include "embedded_guest.hpp"
#include "guestview/embedded_libvirt.hpp"
#include "shell_process.hpp"
#include "tests/guestview/installer_iso.hpp"

namespace phyllome::test {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

constexpr const char* source = "phyllome-it-jobs";

// phyllomectl with its stdout on a pipe, for a test that acts on what it prints as it goes.
class Phyllomectl {
public:
    Phyllomectl(const std::vector<std::string>& args, const std::vector<std::string>& env) {
        int fds[2];
        if (pipe2(fds, O_CLOEXEC) != 0)
            return;
        pid_ = fork();
        if (pid_ == 0) {
            dup2(fds[1], STDOUT_FILENO);
            for (const auto& e : env)
                putenv(const_cast<char*>(e.c_str()));
            std::vector<char*> argv;
            const std::string path = build_path("compositor/phyllomectl");
            argv.push_back(const_cast<char*>(path.c_str()));
            for (const auto& a : args)
                argv.push_back(const_cast<char*>(a.c_str()));
            argv.push_back(nullptr);
            execv(argv[0], argv.data());
            _exit(127);
        }
        close(fds[1]);
        out_ = fds[0];
    }
    ~Phyllomectl() {
        if (pid_ > 0) {
            kill(pid_, SIGKILL);
            waitpid(pid_, nullptr, 0);
        }
        if (out_ >= 0)
            close(out_);
    }
    // Reads until a line holding `needle` arrived (true) or the output ended.
    bool wait_for_line(const std::string& needle) {
        char buf[4096];
        for (;;) {
            if (out_text_.find(needle) != std::string::npos)
                return true;
            const ssize_t n = read(out_, buf, sizeof buf);
            if (n <= 0)
                return false;
            out_text_.append(buf, static_cast<std::size_t>(n));
        }
    }
    void signal(int sig) const { kill(pid_, sig); }
    // Waits for it to exit, with everything it printed read.
    int wait_exit() {
        wait_for_line("\x01never printed");
        int status = 0;
        if (waitpid(pid_, &status, 0) != pid_)
            return -1;
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    const std::string& out() const { return out_text_; }

private:
    pid_t pid_ = -1;
    int out_ = -1;
    std::string out_text_;
};

class GuestJobs : public ::testing::Test {
protected:
    void SetUp() override {
        if (const std::string why = embedded_guest_missing({"virsh", "grim", "qemu-io", "xorriso"}); !why.empty())
            GTEST_SKIP() << why;
        ASSERT_EQ(guestview::prepare_embedded_root(embed_uri()), "");
        for (const char* name : {source, "phyllome-it-jobs-copy", "phyllome-it-jobs-cancelled", "phyllome-it-jobs-restored"})
            run_command({"virsh", "-c", embed_uri(), std::string("destroy ") + name + "; undefine --nvram --snapshots-metadata " + name},
                        {}, 300s);
        ShellProcess::Options o;
        o.libvirt_uri = embed_uri();
        o.config_toml += "[security]\nallow_virtual_input = true\n";
        shell = std::make_unique<ShellProcess>(o);
        ASSERT_TRUE(shell->started()) << shell->log();
        disk_dir = fs::path(shell->log_path()).parent_path() / "data/phyllome/images";
    }
    void TearDown() override {
        shell.reset();
        if (!IsSkipped())
            for (const char* name : {source, "phyllome-it-jobs-copy", "phyllome-it-jobs-cancelled", "phyllome-it-jobs-restored"})
                run_command({"virsh", "-c", embed_uri(), std::string("undefine --nvram --snapshots-metadata ") + name}, {}, 120s);
    }

    // A shut-off guest of the shell's model whose disk holds `mib` MiB of data.
    void create_source(int mib) {
        std::string error;
        const fs::path log = shell->log_path();
        const std::string iso = guestview::testing::make_installer_iso(
            log.parent_path(), log.filename().string() + ".iso", {"PHYLLOME_IT_JOBS", "", "", true}, error);
        ASSERT_FALSE(iso.empty()) << error;
        auto r = shell->ctl({"create", source, "--iso", iso, "--disk-size", "1", "--memory", "256", "--cpus", "1", "--tcg"});
        ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
        const std::string disk = (disk_dir / (std::string(source) + ".qcow2")).string();
        ASSERT_TRUE(fs::exists(disk)) << disk;
        r = run_command({"qemu-io", "-f", "qcow2", "-c", fmt_write(mib), disk}, {}, 120s);
        ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    }
    static std::string fmt_write(int mib) { return "write -P 0x5a 0 " + std::to_string(mib) + "M"; }

    std::unique_ptr<ShellProcess> shell;
    fs::path disk_dir;
};

TEST_F(GuestJobs, DuplicateShowsProgressToTheEndAndTheCopyIsAGuestOfItsOwn) {
    create_source(256);
    auto r = shell->ctl({"duplicate", source, "phyllome-it-jobs-copy", "--json"});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err << shell->log();
    // JSON lines: progress while it ran, then the end.
    EXPECT_NE(r.out.find(R"("kind": "duplicate")"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find(R"("state": "done")"), std::string::npos) << r.out;
    std::uint64_t total = 0;
    const std::regex total_field(R"("total": (\d+))");
    for (auto it = std::sregex_iterator(r.out.begin(), r.out.end(), total_field); it != std::sregex_iterator(); ++it)
        total = std::max<std::uint64_t>(total, std::stoull((*it)[1]));
    EXPECT_GE(total, 256ull << 20) << "the disk's data counts in the total: " << r.out;
    EXPECT_TRUE(fs::exists(disk_dir / "phyllome-it-jobs-copy.qcow2"));
    EXPECT_TRUE(shell->wait_for_status(R"("name": "phyllome-it-jobs-copy")", 10s)) << shell->status_json();
    // The list says how it ended; a second duplicate to the same name is refused at once.
    r = shell->ctl({"jobs"});
    EXPECT_NE(r.out.find("duplicate phyllome-it-jobs as phyllome-it-jobs-copy: done in"), std::string::npos) << r.out;
    r = shell->ctl({"duplicate", source, "phyllome-it-jobs-copy"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("exists already"), std::string::npos) << r.err;
    // The overlay shows the finished job's bar, green across.
    const std::string status = shell->status_json();
    std::smatch bar;
    ASSERT_TRUE(std::regex_search(status, bar, std::regex(R"("job_bars": \[\{"job": \d+, "x": (\d+), "y": (\d+), "width": (\d+), "height": (\d+))")))
        << status;
    auto shot = shell->screenshot();
    ASSERT_TRUE(shot);
    const int x = std::stoi(bar[1]) + std::stoi(bar[3]) / 2, y = std::stoi(bar[2]) + std::stoi(bar[4]) / 2;
    EXPECT_EQ(shot->pixel(x, y), 0x57ab5au) << "the bar of a finished job is green";
}

TEST_F(GuestJobs, CtrlCCancelsAndLeavesNothingBehind) {
    create_source(768);
    Phyllomectl ctl({"duplicate", source, "phyllome-it-jobs-cancelled", "--json"}, shell->client_env());
    ASSERT_TRUE(ctl.wait_for_line(R"("state": "running")")) << ctl.out();
    ctl.signal(SIGINT);
    EXPECT_EQ(ctl.wait_exit(), 130) << ctl.out();
    EXPECT_NE(ctl.out().find(R"("state": "cancelled")"), std::string::npos) << ctl.out();
    EXPECT_FALSE(fs::exists(disk_dir / "phyllome-it-jobs-cancelled.qcow2")) << "the partial copy is removed";
    EXPECT_EQ(shell->status_json().find("phyllome-it-jobs-cancelled\", \"uuid"), std::string::npos);
    auto r = run_command({"virsh", "-c", embed_uri(), "domstate", "phyllome-it-jobs-cancelled"}, {}, 60s);
    EXPECT_NE(r.exit_code, 0) << "no definition is left: " << r.out;
    // The original is as it was: the shell can copy it whole afterwards.
    r = shell->ctl({"cancel", "999"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("there is no job 999"), std::string::npos) << r.err;
}

TEST_F(GuestJobs, BackUpRestoreExportAndImportFromTheCommandLine) {
    create_source(64);
    const fs::path dir = fs::path(shell->log_path()).parent_path() / "backups";
    // The folder is made when missing; the answer names the backup.
    auto r = shell->ctl({"backup", source, dir.string()});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err << shell->log();
    std::smatch folder;
    ASSERT_TRUE(std::regex_search(r.out, folder, std::regex("(" + dir.string() + "/phyllome-it-jobs-[0-9-]+)"))) << r.out;
    EXPECT_TRUE(fs::exists(fs::path(folder[1].str()) / "manifest")) << folder[1];
    r = shell->ctl({"restore", folder[1].str(), "--as", "phyllome-it-jobs-restored"});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_TRUE(shell->wait_for_status(R"("name": "phyllome-it-jobs-restored")", 10s)) << shell->status_json();
    // Export, remove the guest for good, import it again.
    const std::string archive = (dir / "moved.phyllome").string();
    r = shell->ctl({"export", source, archive});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_GT(fs::file_size(archive), 64u << 20);
    r = shell->ctl({"remove", source});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    ASSERT_TRUE(wait_until([&] { return shell->status_json().find(std::string("\"name\": \"") + source + "\"") == std::string::npos; }, 10s));
    r = shell->ctl({"import", archive});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_TRUE(shell->wait_for_status(std::string("\"name\": \"") + source + "\"", 10s)) << shell->status_json();
    EXPECT_TRUE(fs::exists(disk_dir / (std::string(source) + ".qcow2"))) << "the disk came back to this host's folder";
}

// Snapshots of a shut-off guest through the command line, and the overlay's guest card (O) listing
// them; its Enter on "Take a snapshot" starts the job, and R R deletes one.
TEST_F(GuestJobs, SnapshotsFromTheCommandLineAndTheOverlaysGuestCard) {
    create_source(16);
    auto r = shell->ctl({"snapshot", source, "take", "first"});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err << shell->log();
    r = shell->ctl({"snapshot", source, "list"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("first\t"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("shut off\tcurrent"), std::string::npos) << r.out;
    // The overlay: the guest is selected (the only one), O opens its card.
    ASSERT_EQ(shell->wtype({"o"}).exit_code, 0);
    ASSERT_TRUE(shell->wait_for_status(R"("guest_card": {"guest": "phyllome-it-jobs", "selected": 0, "rows": ["Take a snapshot", "Revert to “first”")", 10s))
        << shell->status_json();
    ASSERT_EQ(shell->wtype({"-k", "Return"}).exit_code, 0); // takes a second snapshot, named from the date
    ASSERT_TRUE(wait_until([&] { return shell->ctl({"snapshot", source, "list"}).out.find("first") != std::string::npos &&
                                        std::ranges::count(shell->ctl({"snapshot", source, "list"}).out, '\n') == 2; }, 60s))
        << shell->ctl({"jobs"}).out << shell->log();
    EXPECT_TRUE(shell->wait_for_status(R"("guest_card": null)", 5s)) << "the card closed for the job's bar";
    // Delete "first" from the card: the newest is listed first, so "first" is the third row.
    ASSERT_EQ(shell->wtype({"o"}).exit_code, 0);
    ASSERT_TRUE(shell->wait_for_status(R"("guest_card": {"guest")", 10s));
    ASSERT_EQ(shell->wtype({"-k", "Down", "-k", "Down", "r", "r"}).exit_code, 0);
    ASSERT_TRUE(wait_until([&] { return shell->ctl({"snapshot", source, "list"}).out.find("first") == std::string::npos; }, 60s))
        << shell->ctl({"jobs"}).out;
    r = shell->ctl({"snapshot", source, "revert", "no-such"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("no snapshot named 'no-such'"), std::string::npos) << r.err;
    // Removing the guest takes its snapshots' layers with its disk: nothing of it stays.
    r = shell->ctl({"remove", source});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    std::vector<std::string> left;
    for (const auto& e : fs::directory_iterator(disk_dir))
        if (e.path().filename().string().starts_with(source))
            left.push_back(e.path().filename().string());
    EXPECT_TRUE(left.empty()) << "left behind: " << ::testing::PrintToString(left);
}

TEST_F(GuestJobs, ARunningGuestIsNotDuplicatedAndAnUnknownOneIsNamed) {
    auto r = shell->ctl({"duplicate", "no-such-guest", "x"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("there is no guest named 'no-such-guest'"), std::string::npos) << r.err;
    r = shell->ctl({"backup", "no-such-guest", "relative/dir"});
    EXPECT_EQ(r.exit_code, 1);
    r = shell->ctl({"snapshot", source});
    EXPECT_EQ(r.exit_code, 2) << "usage";
}

} // namespace
} // namespace phyllome::test
