// duplicate_guest (guestview/jobs/guest_duplicate.hpp) with the embedded libvirt and real QEMU
// under TCG: a guest of the shell's Linux machine model (UEFI with its NVRAM, TPM 2.0 through
// swtpm) booted with the Linux test guest (scripts/build-bench-guest), duplicated; both run at
// once and see their TPM; a cancel half-way and every refusal leave nothing behind.
#include "guestview/jobs/guest_duplicate.hpp"

#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <regex>
#include <set>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <libvirt/libvirt.h>

#include "guestview/domain_metadata.hpp"
#include "guestview/domain_model.hpp"
#include "guestview/guest_removal.hpp"
#include "guestview/inventory.hpp"
#include "guestview/jobs/guest_files.hpp"
#include "guestview/libvirt_handles.hpp"
#include "guestview/os_info.hpp"
#include "linux_model_guest.hpp"
#include "linux_test_guest.hpp"
#include "tests/bench/bench_guest.hpp"
#include "tests/firmware/ovmf.hpp"
#include "tests/guestview/embedded_guest_support.hpp"
#include "tests/guestview/recording_job_context.hpp"
#include "tests/guestview/test_support.hpp"

namespace phyllome::guestview {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;
using ::testing::HasSubstr;
using Clock = std::chrono::steady_clock;

constexpr const char* original_name = "phyllome-dup-original";
constexpr const char* copy_name = "phyllome-dup-copy";
constexpr std::uint64_t mib = 1u << 20;

std::string embed_root() { return test_embed_root() + "-duplicate"; }

std::string sha256(const std::string& path) {
    const auto r = test::run_command({"sha256sum", path}, {}, 120s);
    return r.exit_code == 0 ? r.out.substr(0, 64) : "unreadable: " + r.err;
}

std::string read_text(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::set<std::string> macs_of(const std::string& xml) {
    static const std::regex mac(R"(<mac address='([0-9a-f:]+)'/>)");
    std::set<std::string> found;
    for (auto it = std::sregex_iterator(xml.begin(), xml.end(), mac); it != std::sregex_iterator(); ++it)
        found.insert((*it)[1]);
    return found;
}

std::string nvram_of(const std::string& xml) {
    static const std::regex nvram(R"(<nvram[^>]*>([^<]+)</nvram>)");
    std::smatch m;
    return std::regex_search(xml, m, nvram) ? m[1].str() : "";
}

class GuestDuplicateQemuTest : public ::testing::Test {
protected:
    void SetUp() override {
        if (const std::string why = test::ovmf_missing_reason(); !why.empty())
            GTEST_SKIP() << why;
        if (const std::string why = test::linux_test_guest_missing(kernel_dir, {"qemu-img", "qemu-io", "sha256sum"});
            !why.empty())
            GTEST_SKIP() << why;
        std::string error;
        db = OsDatabase::load(error);
        if (!db)
            GTEST_SKIP() << error;
        fs::create_directories(disk_dir);
        inventory = std::make_unique<Inventory>(
            loop.get(), "qemu:///embed?root=" + embed_root(),
            Inventory::Callbacks{{}, [this](const ActionResult& result) { results.push_back(result); }});
        ASSERT_EQ(inventory->status().state, ConnectionState::Connected) << inventory->status().error;
        for (const char* name : {original_name, copy_name})
            forget(name); // a leftover of an interrupted run
    }

    void TearDown() override {
        if (inventory)
            for (const char* name : {original_name, copy_name})
                forget(name);
    }

    // Runs `work` on a thread while the loop turns: the embedded driver needs the loop.
    template <typename Work>
    auto off_loop(Work work) {
        auto future = std::async(std::launch::async, std::move(work));
        testing::pump_until(loop.get(), [&] { return future.wait_for(0s) == std::future_status::ready; }, 900s);
        return future.get();
    }

    void forget(const std::string& name) {
        if (const GuestInfo* info = inventory->find(name); info != nullptr && info->state != GuestState::ShutOff)
            run_action(loop.get(), *inventory, results, Action::ForceOff, name, 60s);
        if (inventory->find(name) == nullptr)
            return;
        const std::string error =
            off_loop([&] { return remove_guest_and_disks(inventory->connection(), name, disk_dir.string()); });
        EXPECT_EQ(error, "") << name;
        testing::pump_until(loop.get(), [&] { return inventory->find(name) == nullptr; }, 10s);
    }

    // The Linux machine model (with a TPM when swtpm is here) booting the test guest's kernel,
    // its 1 GB qcow2 disk holding `data` bytes of a pattern.
    void define_original(std::uint64_t data) {
        const test::LinuxModelGuest guest =
            test::linux_model_guest(*db, original_name, kernel_dir, embed_root(), disk_dir.string(),
                                    test::have_program("swtpm") && test::have_program("swtpm_setup"), data);
        ASSERT_EQ(guest.error, "");
        original_disk = guest.disk;
        const std::string xml = bench::kernel_boot_xml(guest.boot, serial_log(original_name));
        ASSERT_FALSE(xml.empty());
        std::error_code ec;
        fs::remove(serial_log(original_name), ec);
        fs::remove(serial_log(copy_name), ec);
        const bool defined = off_loop([&] {
            return DomainPtr{virDomainDefineXMLFlags(inventory->connection(), xml.c_str(), 0)} != nullptr;
        });
        ASSERT_TRUE(defined) << last_libvirt_error();
        ASSERT_TRUE(testing::pump_until(loop.get(), [&] { return inventory->find(original_name) != nullptr; }, 10s));
    }

    std::string serial_log(const std::string& name) const { return embed_root() + "/" + name + ".serial.log"; }

    // Waits for the test guest's TPM report on its serial console.
    std::string tpm_report(const std::string& name, std::chrono::seconds deadline) {
        std::optional<std::string> report;
        testing::pump_until(
            loop.get(),
            [&] { return (report = bench::serial_report(read_text(serial_log(name)), bench::tpm_report_prefix)).has_value(); },
            deadline);
        return report.value_or("");
    }

    std::string inactive_xml(const std::string& name) {
        return off_loop([&] {
            DomainPtr domain{virDomainLookupByName(inventory->connection(), name.c_str())};
            LibvirtString xml{domain ? virDomainGetXMLDesc(domain.get(), VIR_DOMAIN_XML_INACTIVE) : nullptr};
            return xml ? std::string{xml.get()} : std::string{};
        });
    }

    JobOutcome duplicate(testing::RecordingJobContext& job, const std::string& new_name = copy_name,
                         const std::string& into = {}) {
        const std::string target = into.empty() ? disk_dir.string() : into;
        return off_loop([&] { return duplicate_guest(inventory->connection(), original_name, new_name, target, job); });
    }

    std::set<std::string> files_in(const fs::path& where) const {
        std::set<std::string> names;
        for (const auto& entry : fs::directory_iterator(where))
            names.insert(entry.path().filename().string());
        return names;
    }

    testing::LoopPtr loop = testing::make_loop();
    testing::TempDir dir;
    fs::path disk_dir = dir.path() / "disks";
    std::string kernel_dir, original_disk;
    std::unique_ptr<OsDatabase> db;
    std::vector<ActionResult> results;
    std::unique_ptr<Inventory> inventory;
};

TEST_F(GuestDuplicateQemuTest, TheCopyIsAGuestOfItsOwnThatRunsBesideTheOriginal) {
    define_original(64 * mib);
    // Once started, the guest has an NVRAM file and (with swtpm) TPM state to copy.
    ASSERT_TRUE(run_action(loop.get(), *inventory, results, Action::Start, original_name, 300s).ok);
    const std::string first_report = tpm_report(original_name, 300s);
    ASSERT_FALSE(first_report.empty()) << read_text(serial_log(original_name));
    ASSERT_TRUE(run_action(loop.get(), *inventory, results, Action::ForceOff, original_name, 60s).ok);
    ASSERT_TRUE(testing::pump_until(
        loop.get(), [&] { return inventory->find(original_name)->state == GuestState::ShutOff; }, 30s));

    const std::string original_xml = inactive_xml(original_name);
    const std::string original_sum = sha256(original_disk);
    const std::string original_nvram = nvram_of(original_xml);
    ASSERT_TRUE(fs::exists(original_nvram)) << original_xml;
    const bool tpm = original_xml.find("<tpm ") != std::string::npos;
    std::string error;
    const std::string original_uuid = guest_files(original_xml, error).value_or(GuestFiles{}).uuid;

    testing::RecordingJobContext job;
    const auto started = Clock::now();
    const JobOutcome outcome = duplicate(job);
    const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
    ASSERT_TRUE(outcome.ok) << outcome.message;
    EXPECT_FALSE(outcome.cancelled);
    EXPECT_EQ(outcome.guest, copy_name);
    const auto steps = job.steps();
    ASSERT_FALSE(steps.empty());
    EXPECT_EQ(steps.back().done, steps.back().total);
    for (std::size_t i = 1; i < steps.size(); ++i)
        EXPECT_GE(steps[i].done, steps[i - 1].done) << "progress never goes back";
    fmt::print("duplicate of a guest with 64 MiB written: {} bytes over {} steps in {:.2f} s\n", steps.back().total,
               steps.size(), seconds);
    RecordProperty("duplicate_bytes", std::to_string(steps.back().total));
    RecordProperty("duplicate_seconds", fmt::format("{:.2f}", seconds));

    // The original is exactly as it was.
    EXPECT_EQ(inactive_xml(original_name), original_xml);
    EXPECT_EQ(sha256(original_disk), original_sum);

    // The copy: its own name, UUID, MACs, disk, NVRAM, TPM state and identity.
    ASSERT_TRUE(testing::pump_until(loop.get(), [&] { return inventory->find(copy_name) != nullptr; }, 10s));
    const std::string copy_xml = inactive_xml(copy_name);
    const std::string copy_disk = (disk_dir / (std::string{copy_name} + ".qcow2")).string();
    EXPECT_THAT(copy_xml, HasSubstr(copy_disk));
    EXPECT_EQ(copy_xml.find(original_disk), std::string::npos);
    EXPECT_EQ(sha256(copy_disk), original_sum);
    struct stat a {}, b {};
    ASSERT_EQ(::stat(original_disk.c_str(), &a), 0);
    ASSERT_EQ(::stat(copy_disk.c_str(), &b), 0);
    EXPECT_NE(a.st_ino, b.st_ino) << "a file of its own";
    const std::string copy_uuid = guest_files(copy_xml, error).value_or(GuestFiles{}).uuid;
    EXPECT_NE(copy_uuid, original_uuid);
    const auto original_macs = macs_of(original_xml), copy_macs = macs_of(copy_xml);
    ASSERT_FALSE(copy_macs.empty());
    for (const std::string& mac : copy_macs)
        EXPECT_FALSE(original_macs.contains(mac)) << mac;
    const std::string copy_nvram = nvram_of(copy_xml);
    EXPECT_NE(copy_nvram, original_nvram);
    EXPECT_EQ(read_text(copy_nvram), read_text(original_nvram)) << "the firmware's variables carry over";
    if (tpm) {
        const auto dirs = state_dirs_for_uri("qemu:///embed?root=" + embed_root());
        ASSERT_TRUE(dirs);
        const std::string state = tpm_state_dir(*dirs, original_uuid) + "/tpm2/tpm2-00.permall";
        const std::string copy_state = tpm_state_dir(*dirs, copy_uuid) + "/tpm2/tpm2-00.permall";
        ASSERT_TRUE(fs::exists(copy_state));
        EXPECT_EQ(read_text(copy_state), read_text(state)) << "the same TPM: BitLocker's keys still open";
    }
    const GuestIdentity original_identity = identity_from_domain_xml(original_xml, original_name);
    const GuestIdentity identity = identity_from_domain_xml(copy_xml, copy_name);
    ASSERT_TRUE(identity.slot && identity.colour) << copy_xml;
    EXPECT_NE(identity, original_identity);
    EXPECT_THAT(copy_xml, HasSubstr(serial_log(copy_name))) << "a serial log of its own";

    // Both run at once, each with its TPM.
    ASSERT_TRUE(run_action(loop.get(), *inventory, results, Action::Start, original_name, 300s).ok);
    const ActionResult copy_started = run_action(loop.get(), *inventory, results, Action::Start, copy_name, 300s);
    ASSERT_TRUE(copy_started.ok) << copy_started.error;
    const std::string copy_report = tpm_report(copy_name, 400s);
    EXPECT_EQ(copy_report, first_report) << read_text(serial_log(copy_name));
    fmt::print("both running; the copy's TPM report: {}\n", copy_report);
    EXPECT_EQ(inventory->find(original_name)->state, GuestState::Running);
    EXPECT_EQ(inventory->find(copy_name)->state, GuestState::Running);
}

TEST_F(GuestDuplicateQemuTest, ACancelHalfWayLeavesNothingBehind) {
    define_original(320 * mib);
    const std::set<std::string> before = files_in(disk_dir);
    const std::string original_xml = inactive_xml(original_name);
    testing::RecordingJobContext job;
    job.cancel_after_bytes(100 * mib);
    const JobOutcome outcome = duplicate(job);
    EXPECT_FALSE(outcome.ok);
    EXPECT_TRUE(outcome.cancelled) << outcome.message;
    EXPECT_THAT(outcome.message, HasSubstr("cancelled"));
    const auto steps = job.steps();
    ASSERT_GE(steps.size(), 2u);
    EXPECT_LT(steps.back().done, steps.back().total) << "it stopped before the end";
    EXPECT_GE(steps.back().total, 320 * mib);
    EXPECT_EQ(files_in(disk_dir), before) << "no copy left";
    testing::pump_for(loop.get(), 200ms);
    EXPECT_EQ(inventory->find(copy_name), nullptr);
    EXPECT_EQ(inactive_xml(copy_name), "") << "no definition left";
    EXPECT_EQ(inactive_xml(original_name), original_xml);

    // And the whole copy, timed.
    testing::RecordingJobContext full;
    const auto started = Clock::now();
    const JobOutcome done = duplicate(full);
    const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
    ASSERT_TRUE(done.ok) << done.message;
    fmt::print("duplicate of a guest with 320 MiB written: {} bytes over {} steps in {:.2f} s\n",
               full.steps().back().total, full.steps().size(), seconds);
}

TEST_F(GuestDuplicateQemuTest, RefusesARunningGuestATakenOrBadNameAndTooLittleSpace) {
    define_original(8 * mib);
    const std::set<std::string> before = files_in(disk_dir);
    testing::RecordingJobContext job;
    JobOutcome outcome = duplicate(job, original_name);
    EXPECT_FALSE(outcome.ok);
    EXPECT_THAT(outcome.message, HasSubstr("exists already"));
    outcome = duplicate(job, "../escape");
    EXPECT_THAT(outcome.message, HasSubstr("may only use letters"));

    // Not enough space: a small tmpfs as the disk directory.
    const fs::path small = dir.path() / "small";
    fs::create_directories(small);
    if (::mount("tmpfs", small.c_str(), "tmpfs", 0, "size=16m") == 0) {
        outcome = duplicate(job, copy_name, small.string());
        ::umount(small.c_str());
        EXPECT_FALSE(outcome.ok);
        EXPECT_THAT(outcome.message, HasSubstr("not enough disk space"));
    } else {
        fmt::print("not-enough-space part skipped: cannot mount a tmpfs here ({})\n", std::strerror(errno));
    }

    ASSERT_TRUE(run_action(loop.get(), *inventory, results, Action::Start, original_name, 300s).ok);
    outcome = duplicate(job);
    EXPECT_FALSE(outcome.ok);
    EXPECT_THAT(outcome.message, HasSubstr("shut it down first"));
    EXPECT_THAT(outcome.message, HasSubstr(original_name));
    const bool suspended = off_loop([&] {
        DomainPtr domain{virDomainLookupByName(inventory->connection(), original_name)};
        return domain && virDomainSuspend(domain.get()) == 0;
    });
    ASSERT_TRUE(suspended) << last_libvirt_error();
    outcome = duplicate(job);
    EXPECT_THAT(outcome.message, HasSubstr("is paused: shut it down first"));

    EXPECT_TRUE(job.steps().empty()) << "refused before anything was copied";
    EXPECT_EQ(files_in(disk_dir), before);
    EXPECT_EQ(inactive_xml(copy_name), "");

    // A failure after the copy is defined: an NVRAM file left where libvirt puts the copy's
    // (never overwritten). The copy's disk, definition and TPM state go again; that file stays.
    ASSERT_TRUE(run_action(loop.get(), *inventory, results, Action::ForceOff, original_name, 60s).ok);
    ASSERT_TRUE(testing::pump_until(
        loop.get(), [&] { return inventory->find(original_name)->state == GuestState::ShutOff; }, 30s));
    const std::string leftover = embed_root() + "/lib/qemu/nvram/" + copy_name + "_VARS.fd";
    std::ofstream(leftover) << "someone's variables";
    const std::set<std::string> tpm_dirs_before =
        fs::exists(embed_root() + "/lib/swtpm") ? files_in(embed_root() + "/lib/swtpm") : std::set<std::string>{};
    testing::RecordingJobContext failing;
    outcome = duplicate(failing);
    EXPECT_FALSE(outcome.ok);
    EXPECT_FALSE(outcome.cancelled);
    EXPECT_THAT(outcome.message, HasSubstr(leftover));
    EXPECT_FALSE(failing.steps().empty()) << "it failed after copying the disk";
    EXPECT_EQ(read_text(leftover), "someone's variables");
    fs::remove(leftover);
    EXPECT_EQ(files_in(disk_dir), before) << "the disk's copy went again";
    EXPECT_EQ(inactive_xml(copy_name), "") << "the definition went again";
    if (!tpm_dirs_before.empty()) {
        EXPECT_EQ(files_in(embed_root() + "/lib/swtpm"), tpm_dirs_before) << "the copy's TPM state went again";
    }
}

} // namespace
} // namespace phyllome::guestview
