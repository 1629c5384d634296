// Moving a guest to new hardware (issue 17) with two real hosts on this machine: two private
// system-mode libvirtds (system_libvirtd.hpp), each in a network namespace of its own with its
// own host UUID, joined by a veth pair (A 10.77.0.1, B 10.77.0.2); B takes qemu+tcp. The Linux
// test guest (scripts/build-bench-guest) boots on A in the shell's Linux machine model (q35,
// OVMF with NVRAM, a TPM from swtpm, its disk in /var/lib/libvirt/images, which is a directory
// of each daemon's own), then move_guest takes it to qemu+tcp://10.77.0.2/system. The move runs
// on a thread inside A's network namespace, as a user's session on host A would.
// Needs root; skips without libvirtd, QEMU, OVMF, swtpm, qemu-img, ip, nsenter or the guest.
#include "guestview/jobs/guest_move.hpp"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <future>
#include <iostream>
#include <iterator>
#include <optional>
#include <thread>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <libvirt/libvirt.h>

#include "guestview/domain_model.hpp"
#include "guestview/jobs/move_storage.hpp"
#include "guestview/libvirt_handles.hpp"
#include "guestview/machine_model.hpp"
#include "guestview/os_info.hpp"
#include "tests/guestview/recording_job_context.hpp"
#include "tests/guestview/system_libvirtd.hpp"

namespace phyllome::guestview {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr const char* guest_name = "phyllome-move-test";
constexpr const char* destination = "qemu+tcp://10.77.0.2/system";
constexpr const char* kernel_dir = "/var/cache/phyllome-bench/guest";
constexpr int disk_data_mib = 384; // random, so the copy takes seconds under TCG

std::string read_file(const fs::path& path) {
    std::ifstream in{path, std::ios::binary};
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// A shell command's exit status and output (stdout and stderr).
std::pair<int, std::string> sh(const std::string& command) {
    std::string output;
    FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
    if (pipe == nullptr)
        return {-1, "popen failed"};
    char buffer[4096];
    while (const std::size_t n = std::fread(buffer, 1, sizeof buffer, pipe))
        output.append(buffer, n);
    const int status = ::pclose(pipe);
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

template <typename Predicate>
bool poll_until(Predicate done, std::chrono::milliseconds deadline) {
    const auto until = Clock::now() + deadline;
    while (!done()) {
        if (Clock::now() > until)
            return false;
        std::this_thread::sleep_for(50ms); // polling a state that sends no event
    }
    return true;
}

// The guest's kernel and initramfs added to the machine XML, its console in a file of the
// daemon's own /var/log/libvirt (so A's and B's QEMU write to different files).
std::string with_kernel(std::string xml) {
    const auto os_end = xml.find("</os>");
    const auto devices_end = xml.rfind("</devices>");
    if (os_end == std::string::npos || devices_end == std::string::npos)
        return {};
    xml.insert(devices_end, fmt::format("  <serial type='file'><source path='/var/log/libvirt/qemu/{}.serial' "
                                        "append='on'/></serial>\n  ",
                                        guest_name));
    xml.insert(os_end, fmt::format("  <kernel>{0}/vmlinuz</kernel>\n    <initrd>{0}/initrd.gz</initrd>\n"
                                   "    <cmdline>console=ttyS0 quiet fbanim_fps=2 fbanim_seconds=0</cmdline>\n  ",
                                   kernel_dir));
    return xml;
}

struct Hosts {
    std::optional<testing::SystemLibvirtd> a, b;
    ConnectionPtr a_conn, b_conn;
    std::string skip, failure;
    fs::path work;        // the ISO, the disk's data; under /tmp, which both daemons see
    std::string xml;      // the guest's
};

Hosts& hosts() {
    static Hosts instance;
    return instance;
}

// Runs `f` on a thread in the network namespace of the process `pid`.
template <typename F>
auto in_network_of(pid_t pid, F f) {
    return std::async(std::launch::async, [pid, f = std::move(f)]() mutable {
        const int ns = ::open(fmt::format("/proc/{}/ns/net", pid).c_str(), O_RDONLY | O_CLOEXEC);
        const bool entered = ns >= 0 && ::setns(ns, CLONE_NEWNET) == 0;
        if (ns >= 0)
            ::close(ns);
        if (!entered)
            throw std::runtime_error("cannot enter host A's network namespace");
        return f();
    });
}

class GuestMoveQemu : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        Hosts& h = hosts();
        if (std::string why = testing::SystemLibvirtd::unavailable(); !why.empty()) {
            h.skip = why;
            return;
        }
        for (const char* path : {"/usr/bin/qemu-system-x86_64", "/usr/share/OVMF/OVMF_CODE_4M.fd", "/usr/bin/swtpm",
                                 "/usr/bin/qemu-img", "/usr/sbin/ip", "/usr/bin/nsenter",
                                 "/usr/lib/x86_64-linux-gnu/libvirt/connection-driver/libvirt_driver_storage.so"})
            if (!fs::exists(path)) {
                h.skip = std::string{path} + " is missing";
                return;
            }
        if (const char* src = std::getenv("PHYLLOME_SOURCE_ROOT"); src != nullptr)
            sh(std::string{src} + "/scripts/build-bench-guest --quiet");
        if (!fs::exists(fmt::format("{}/vmlinuz", kernel_dir))) {
            h.skip = std::string{"the test guest is not built: scripts/build-bench-guest (as root)"};
            return;
        }
        std::string error;
        const auto db = OsDatabase::load(error);
        const auto os = db ? db->find("debian12") : std::nullopt;
        if (!os) {
            h.skip = "osinfo-db has no debian12: " + error;
            return;
        }

        h.a.emplace(testing::SystemLibvirtd::Options{"6d6f7665-0000-4000-8000-00000000000a", true, false, false, ""});
        h.b.emplace(testing::SystemLibvirtd::Options{"6d6f7665-0000-4000-8000-00000000000b", true, true, true, "move-b"});
        for (auto* daemon : {&*h.a, &*h.b}) {
            if (const auto started = daemon->start(); started != testing::SystemLibvirtd::Started::Ok) {
                (started == testing::SystemLibvirtd::Started::DaemonFailed ? h.skip : h.failure) =
                    "a private libvirtd did not come up: " + daemon->error() + "\n" + daemon->log();
                return;
            }
        }
        // The veth pair between the two namespaces, made from A's side.
        const pid_t a = h.a->pid(), b = h.b->pid();
        for (const std::string& command :
             {fmt::format("nsenter -t {} -n ip link add mva type veth peer name mvb netns {}", a, b),
              fmt::format("nsenter -t {} -n sh -c 'ip link set lo up && ip addr add 10.77.0.1/24 dev mva && "
                          "ip link set mva up'", a),
              fmt::format("nsenter -t {} -n sh -c 'ip link set lo up && ip addr add 10.77.0.2/24 dev mvb && "
                          "ip link set mvb up'", b)})
            if (const auto [status, output] = sh(command); status != 0) {
                h.skip = "cannot make the network between the two hosts: " + command + ": " + output;
                return;
            }

        char work[] = "/tmp/phyllome-move-XXXXXX";
        h.work = ::mkdtemp(work);
        for (auto* daemon : {&*h.a, &*h.b})
            fs::create_directories(daemon->lib_dir() + "/images");
        GuestSpec spec;
        spec.name = guest_name;
        spec.iso_path = (h.work / "installer.iso").string(); // the same path on both: /tmp is shared
        spec.disk_dir = "/var/lib/libvirt/images";
        spec.encrypt_disk = false;
        spec.memory_mb = 512;
        spec.cpus = 1;
        spec.disk_size_gb = 1;
        std::ofstream(spec.iso_path, std::ios::binary) << std::string(64 * 1024, '\0');
        ModelHost model_host;
        model_host.network = GuestNetwork::User;
        model_host.kvm = false;
        model_host.tpm = true;
        h.xml = with_kernel(phyllome_domain_xml(spec, choose_model(*os, model_host), model_host, *os));

        h.a_conn.reset(virConnectOpen(h.a->uri().c_str()));
        h.b_conn.reset(virConnectOpen(h.b->uri().c_str()));
        if (!h.a_conn || !h.b_conn)
            h.failure = "cannot connect to the daemons: " + last_libvirt_error();
    }

    static void TearDownTestSuite() {
        Hosts& h = hosts();
        h.a_conn.reset();
        h.b_conn.reset();
        h.a.reset();
        h.b.reset();
        std::error_code ec;
        if (!h.work.empty())
            fs::remove_all(h.work, ec);
    }

    void SetUp() override {
        if (!hosts().skip.empty())
            GTEST_SKIP() << hosts().skip;
        ASSERT_TRUE(hosts().failure.empty()) << hosts().failure;
    }

    void TearDown() override {
        Hosts& h = hosts();
        if (!h.skip.empty() || !h.failure.empty() || !h.a_conn || !h.b_conn)
            return;
        if (HasFailure())
            std::cerr << "A's log:\n" << h.a->log() << "\nB's log:\n" << h.b->log() << "\nA's QEMU:\n"
                      << h.a->guest_log(guest_name) << "\nB's QEMU:\n" << h.b->guest_log(guest_name);
        for (virConnectPtr connection : {h.a_conn.get(), h.b_conn.get()})
            if (DomainPtr left{virDomainLookupByName(connection, guest_name)}) {
                virDomainDestroy(left.get());
                virDomainUndefineFlags(left.get(), VIR_DOMAIN_UNDEFINE_NVRAM | VIR_DOMAIN_UNDEFINE_TPM);
            }
        virResetLastError();
        for (auto* daemon : {&*h.a, &*h.b}) {
            std::error_code ec;
            fs::remove(daemon->lib_dir() + "/images/" + guest_name + ".qcow2", ec);
        }
    }

    // The disk (random data, kept as the raw original to compare with) and the guest on A,
    // booted until its /init reported the TPM.
    void boot_on_a() {
        Hosts& h = hosts();
        const std::string raw = (h.work / "disk.raw").string();
        const std::string disk = h.a->lib_dir() + "/images/" + guest_name + ".qcow2";
        if (!fs::exists(raw)) {
            const auto [status, output] =
                sh(fmt::format("head -c {}M /dev/urandom > {} && truncate -s 1G {}", disk_data_mib, raw, raw));
            ASSERT_EQ(status, 0) << output;
        }
        const auto [status, output] = sh(fmt::format("qemu-img convert -O qcow2 {} {}", raw, disk));
        ASSERT_EQ(status, 0) << output;
        std::error_code ec;
        fs::remove(serial(*h.a), ec);
        DomainPtr domain{virDomainDefineXML(h.a_conn.get(), h.xml.c_str())};
        ASSERT_TRUE(domain) << last_libvirt_error() << "\n" << h.xml;
        ASSERT_EQ(virDomainCreate(domain.get()), 0) << last_libvirt_error();
        // OVMF under TCG takes its time before the kernel runs.
        ASSERT_TRUE(poll_until([&] { return read_file(serial(*h.a)).find("phyllome-guest: tpm") != std::string::npos; },
                               300s))
            << read_file(serial(*h.a));
        EXPECT_THAT(read_file(serial(*h.a)), HasSubstr("tpm /dev/tpm0 present"));
    }

    static std::string serial(const testing::SystemLibvirtd& daemon) {
        return fmt::format("{}/qemu/{}.serial", fs::path(daemon.lib_dir()).parent_path().string() + "/log", guest_name);
    }

    JobOutcome move(testing::RecordingJobContext& job, const std::string& uri = destination) {
        Hosts& h = hosts();
        return in_network_of(h.a->pid(), [&] { return move_guest(h.a_conn.get(), guest_name, uri, job); }).get();
    }

    static bool runs(virConnectPtr connection) {
        DomainPtr domain{virDomainLookupByName(connection, guest_name)};
        virResetLastError();
        return domain && virDomainIsActive(domain.get()) == 1;
    }
    static int domains(virConnectPtr connection) {
        virDomainPtr* list = nullptr;
        const int n = virConnectListAllDomains(connection, &list, 0);
        for (int i = 0; i < n; ++i)
            virDomainFree(list[i]);
        std::free(list);
        return n;
    }
    static std::vector<std::string> files_in(const std::string& dir) {
        std::vector<std::string> names;
        std::error_code ec;
        for (const auto& entry : fs::recursive_directory_iterator(dir, ec))
            if (entry.is_regular_file())
                names.push_back(entry.path().string());
        return names;
    }
};

TEST_F(GuestMoveQemu, AShutOffGuestIsRefusedWithWhatToDoInstead) {
    Hosts& h = hosts();
    DomainPtr domain{virDomainDefineXML(h.a_conn.get(), h.xml.c_str())};
    ASSERT_TRUE(domain) << last_libvirt_error();
    testing::RecordingJobContext job;
    const JobOutcome outcome = move(job);
    EXPECT_FALSE(outcome.ok);
    EXPECT_THAT(outcome.message, HasSubstr("is shut off"));
    EXPECT_THAT(outcome.message, HasSubstr("Export and Import"));
    EXPECT_EQ(domains(h.b_conn.get()), 0);
}

TEST_F(GuestMoveQemu, RefusalsLeaveTheGuestRunningHere) {
    Hosts& h = hosts();
    ASSERT_NO_FATAL_FAILURE(boot_on_a());
    {
        SCOPED_TRACE("no host at that address");
        testing::RecordingJobContext job;
        const auto started = Clock::now();
        const JobOutcome outcome = move(job, "qemu+tcp://10.77.0.3/system");
        std::cerr << "unreachable: " << outcome.message << " ("
                  << std::chrono::duration<double>(Clock::now() - started).count() << " s)\n";
        EXPECT_FALSE(outcome.ok);
        EXPECT_THAT(outcome.message, HasSubstr("cannot be reached"));
    }
    {
        SCOPED_TRACE("a host without libvirt");
        testing::RecordingJobContext job;
        const JobOutcome outcome = move(job, "qemu+tcp://10.77.0.2:1/system");
        std::cerr << "no daemon: " << outcome.message << "\n";
        EXPECT_FALSE(outcome.ok);
        EXPECT_THAT(outcome.message, HasSubstr("no libvirt daemon answers"));
    }
    {
        SCOPED_TRACE("a guest of that name there");
        const std::string other = fmt::format("<domain type='qemu'><name>{}</name><memory unit='MiB'>64</memory>"
                                              "<os><type arch='x86_64'>hvm</type></os></domain>",
                                              guest_name);
        DomainPtr there{virDomainDefineXML(h.b_conn.get(), other.c_str())};
        ASSERT_TRUE(there) << last_libvirt_error();
        testing::RecordingJobContext job;
        const JobOutcome outcome = move(job);
        EXPECT_FALSE(outcome.ok);
        EXPECT_THAT(outcome.message, HasSubstr("already has a guest named"));
        EXPECT_EQ(virDomainUndefine(there.get()), 0);
        EXPECT_TRUE(files_in(h.b->lib_dir() + "/images").empty());
    }
    {
        SCOPED_TRACE("no room for its disk there");
        // B's images folder becomes a 64 MiB tmpfs, inside B's own mount namespace only.
        const auto [status, output] = sh(fmt::format(
            "nsenter -t {} -m mount -t tmpfs -o size=64M phyllome-move-small /var/lib/libvirt/images", h.b->pid()));
        ASSERT_EQ(status, 0) << output;
        testing::RecordingJobContext job;
        const JobOutcome outcome = move(job);
        sh(fmt::format("nsenter -t {} -m umount /var/lib/libvirt/images", h.b->pid()));
        EXPECT_FALSE(outcome.ok);
        EXPECT_THAT(outcome.message, HasSubstr("free in '/var/lib/libvirt/images', the disks need 0.4 GiB"));
        EXPECT_EQ(domains(h.b_conn.get()), 0);
    }
    EXPECT_TRUE(runs(h.a_conn.get()));
}

TEST_F(GuestMoveQemu, CancelHalfWayKeepsItRunningHereAndLeavesNothingThere) {
    Hosts& h = hosts();
    ASSERT_NO_FATAL_FAILURE(boot_on_a());
    testing::RecordingJobContext job;
    // The runner's part: a cancel aborts the watched libvirt job once data flows.
    std::atomic<bool> done{false};
    std::uint64_t seen_bytes = 0;
    std::thread canceller([&] {
        while (!done) {
            if (virDomainPtr domain = job.watched()) {
                virDomainJobInfo info{};
                if (virDomainGetJobInfo(domain, &info) == 0 && info.dataProcessed > 64ull << 20) {
                    seen_bytes = info.dataProcessed;
                    job.cancel();
                    virDomainAbortJob(domain);
                    return;
                }
            }
            std::this_thread::sleep_for(20ms);
        }
    });
    const auto started = Clock::now();
    const JobOutcome outcome = move(job);
    done = true;
    canceller.join();
    std::cerr << "cancelled after " << seen_bytes << " bytes, "
              << std::chrono::duration<double>(Clock::now() - started).count() << " s: " << outcome.message << "\n";
    EXPECT_FALSE(outcome.ok);
    EXPECT_TRUE(outcome.cancelled) << outcome.message;
    EXPECT_GT(seen_bytes, 0u) << "the move ended before it could be cancelled";
    EXPECT_GE(job.watch_count(), 1);
    EXPECT_TRUE(runs(h.a_conn.get()));
    EXPECT_EQ(domains(h.b_conn.get()), 0);
    EXPECT_THAT(files_in(h.b->lib_dir() + "/images"), ::testing::IsEmpty());
    EXPECT_THAT(files_in(h.b->lib_dir() + "/qemu/nvram"), ::testing::IsEmpty());
    EXPECT_THAT(files_in(h.b->lib_dir() + "/swtpm"), ::testing::IsEmpty());
    // It goes on running on A.
    DomainPtr domain{virDomainLookupByName(h.a_conn.get(), guest_name)};
    virDomainInfo before{}, after{};
    ASSERT_EQ(virDomainGetInfo(domain.get(), &before), 0);
    EXPECT_TRUE(poll_until([&] { return virDomainGetInfo(domain.get(), &after) == 0 && after.cpuTime > before.cpuTime; },
                           10s));
}

// Why move_guest makes the destination's disks itself: what libvirt 11.3 does on its own. It
// makes a missing disk only where a storage pool's folder holds it, and keeps it after a cancel.
TEST_F(GuestMoveQemu, LibvirtsOwnDiskCopyNeedsAPoolThereAndLeavesItsFileAfterACancel) {
    Hosts& h = hosts();
    ASSERT_NO_FATAL_FAILURE(boot_on_a());
    DomainPtr domain{virDomainLookupByName(h.a_conn.get(), guest_name)};
    ASSERT_TRUE(domain);
    auto migrate = [&](testing::RecordingJobContext& job) {
        return in_network_of(h.a->pid(), [&] {
            ConnectionPtr b{virConnectOpen(destination)};
            virTypedParameterPtr params = nullptr;
            int count = 0, max = 0;
            virTypedParamsAddString(&params, &count, &max, VIR_MIGRATE_PARAM_URI, "tcp://10.77.0.2");
            job.watch_domain_job(domain.get());
            DomainPtr moved{virDomainMigrate3(domain.get(), b.get(), params, count,
                                              VIR_MIGRATE_LIVE | VIR_MIGRATE_PERSIST_DEST | VIR_MIGRATE_NON_SHARED_DISK)};
            job.watch_domain_job(nullptr);
            virTypedParamsFree(params, count);
            return moved ? std::string{} : last_libvirt_error();
        }).get();
    };
    // The vdagent channel out first, as move_guest does.
    LibvirtString xml{virDomainGetXMLDesc(domain.get(), 0)};
    const std::string channel = xml.get();
    const auto at = channel.find("<channel type='qemu-vdagent'>");
    ASSERT_NE(at, std::string::npos);
    const std::string vdagent = channel.substr(at, channel.find("</channel>", at) + 10 - at);
    ASSERT_EQ(virDomainDetachDeviceFlags(domain.get(), vdagent.c_str(), VIR_DOMAIN_AFFECT_LIVE), 0)
        << last_libvirt_error();

    testing::RecordingJobContext first;
    const std::string without_pool = migrate(first);
    std::cerr << "libvirt alone, no pool on B: " << without_pool << "\n";
    EXPECT_THAT(without_pool, HasSubstr("/var/lib/libvirt/images"));
    EXPECT_TRUE(runs(h.a_conn.get()));

    const std::string pool_xml = "<pool type='dir'><name>images</name><target><path>/var/lib/libvirt/images</path>"
                                 "</target></pool>";
    std::unique_ptr<struct _virStoragePool, PoolFreer> pool{virStoragePoolCreateXML(h.b_conn.get(), pool_xml.c_str(), 0)};
    ASSERT_TRUE(pool) << last_libvirt_error();
    testing::RecordingJobContext second;
    std::atomic<bool> done{false};
    std::thread canceller([&] {
        while (!done) {
            virDomainJobInfo info{};
            if (second.watched() != nullptr && virDomainGetJobInfo(second.watched(), &info) == 0 &&
                info.dataProcessed > 64ull << 20) {
                virDomainAbortJob(second.watched());
                return;
            }
            std::this_thread::sleep_for(20ms);
        }
    });
    const std::string cancelled = migrate(second);
    done = true;
    canceller.join();
    std::cerr << "libvirt alone, pool on B, cancelled: " << cancelled << "; left on B: "
              << ::testing::PrintToString(files_in(h.b->lib_dir() + "/images")) << ", "
              << ::testing::PrintToString(files_in(h.b->lib_dir() + "/qemu/nvram")) << "\n";
    EXPECT_THAT(cancelled, HasSubstr("canceled"));
    EXPECT_TRUE(runs(h.a_conn.get()));
    EXPECT_EQ(domains(h.b_conn.get()), 0);
    EXPECT_THAT(files_in(h.b->lib_dir() + "/images"), ::testing::ElementsAre(HasSubstr(guest_name)))
        << "libvirt 11.3 removes the disk it made after all: move_guest's own copies could go";
    virStoragePoolDestroy(pool.get());
    std::error_code ec;
    for (const std::string& file : files_in(h.b->lib_dir() + "/qemu/nvram"))
        fs::remove(file, ec);
}

TEST_F(GuestMoveQemu, MovesARunningUefiTpmGuestLiveWithItsDiskNvramAndTpmState) {
    Hosts& h = hosts();
    ASSERT_NO_FATAL_FAILURE(boot_on_a());
    const std::string nvram_a = h.a->lib_dir() + "/qemu/nvram/" + guest_name + "_VARS.fd";
    ASSERT_TRUE(fs::exists(nvram_a)) << "the model's NVRAM is not where libvirt puts it";
    ASSERT_FALSE(files_in(h.a->lib_dir() + "/swtpm").empty()) << "swtpm keeps no state on A";
    const std::string nvram_before = read_file(nvram_a);

    testing::RecordingJobContext job;
    std::atomic<bool> done{false};
    virDomainJobInfo last{};
    std::thread poller([&] {
        while (!done) {
            if (virDomainPtr domain = job.watched()) {
                virDomainJobInfo info{};
                if (virDomainGetJobInfo(domain, &info) == 0 && info.type != VIR_DOMAIN_JOB_NONE)
                    last = info;
            }
            std::this_thread::sleep_for(100ms);
        }
    });
    const auto started = Clock::now();
    const JobOutcome outcome = move(job);
    const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
    done = true;
    poller.join();
    ASSERT_TRUE(outcome.ok) << outcome.message;
    EXPECT_EQ(outcome.guest, guest_name);
    EXPECT_THAT(outcome.message, HasSubstr("its disk files here were kept"));

    // Gone from A, defined and running on B, its vCPU going on there.
    DomainPtr gone{virDomainLookupByName(h.a_conn.get(), guest_name)};
    virResetLastError();
    EXPECT_FALSE(gone) << "still defined on A";
    EXPECT_FALSE(fs::exists(nvram_a)) << "A kept its NVRAM";
    EXPECT_THAT(files_in(h.a->lib_dir() + "/swtpm"), ::testing::IsEmpty()) << "A kept its TPM state";
    DomainPtr there{virDomainLookupByName(h.b_conn.get(), guest_name)};
    ASSERT_TRUE(there) << last_libvirt_error();
    EXPECT_EQ(virDomainIsPersistent(there.get()), 1);
    virDomainInfo before{}, after{};
    ASSERT_EQ(virDomainGetInfo(there.get(), &before), 0);
    EXPECT_EQ(before.state, VIR_DOMAIN_RUNNING);
    EXPECT_TRUE(poll_until([&] { return virDomainGetInfo(there.get(), &after) == 0 && after.cpuTime > before.cpuTime; },
                           10s));
    EXPECT_TRUE(fs::exists(fs::path(h.b->lib_dir()).parent_path() / "run/qemu" / (std::string{guest_name} + ".pid")))
        << "no QEMU of B runs it";

    // Its disk arrived, its NVRAM and TPM state with it.
    const std::string disk_b = h.b->lib_dir() + "/images/" + guest_name + ".qcow2";
    const auto [same, compare] = sh(fmt::format("qemu-img compare -U -f raw -F qcow2 {} {}",
                                                (h.work / "disk.raw").string(), disk_b));
    EXPECT_EQ(same, 0) << compare;
    const std::string nvram_b = h.b->lib_dir() + "/qemu/nvram/" + guest_name + "_VARS.fd";
    // QEMU writes the flash it got with the guest's memory to B's file once the guest runs there.
    EXPECT_TRUE(poll_until([&] { return read_file(nvram_b) == nvram_before; }, 10s))
        << "B's NVRAM is not A's: " << read_file(nvram_b).size() << " bytes";
    EXPECT_FALSE(files_in(h.b->lib_dir() + "/swtpm").empty()) << "no TPM state on B";

    // It boots again on B from B's files: OVMF with the moved NVRAM, the kernel sees B's TPM.
    ASSERT_EQ(virDomainReset(there.get(), 0), 0) << last_libvirt_error();
    EXPECT_TRUE(poll_until(
        [&] { return read_file(serial(*h.b)).find("tpm /dev/tpm0 present") != std::string::npos; }, 300s))
        << "B's serial console:\n" << read_file(serial(*h.b));

    // What it took.
    virTypedParameterPtr params = nullptr;
    int count = 0, type = 0;
    unsigned long long memory = 0, disk = 0, total = 0;
    if (virDomainGetJobStats(there.get(), &type, &params, &count, VIR_DOMAIN_JOB_STATS_COMPLETED) == 0) {
        virTypedParamsGetULLong(params, count, VIR_DOMAIN_JOB_MEMORY_PROCESSED, &memory);
        virTypedParamsGetULLong(params, count, VIR_DOMAIN_JOB_DISK_PROCESSED, &disk);
        virTypedParamsGetULLong(params, count, VIR_DOMAIN_JOB_DATA_PROCESSED, &total);
        virTypedParamsFree(params, count);
    }
    // The completed statistics leave out the disks' copy (NBD runs beside the migration stream).
    disk = std::max<unsigned long long>(disk, last.fileProcessed);
    memory = std::max<unsigned long long>(memory, last.memProcessed);
    total = std::max<unsigned long long>(total, last.dataProcessed);
    std::cerr << fmt::format("moved in {:.1f} s: memory {} MiB, disk {} MiB, all {} MiB (guest: 512 MiB RAM, {} MiB "
                             "of disk data); {}\n",
                             seconds, memory >> 20, disk >> 20, total >> 20, disk_data_mib, outcome.message);
}

} // namespace
} // namespace phyllome::guestview
