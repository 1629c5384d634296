// Snapshots end to end (issue 17): the embedded libvirt and QEMU under TCG run the Linux test
// guest (scripts/build-bench-guest) booted into the shell's own machine model (q35, OVMF with
// its NVRAM, a TPM by swtpm when installed, a qcow2 disk). In its disk mode the guest reports
// what a marker on /dev/vda holds and writes the next one at boot and on every Enter, so the
// guest itself tells which disk state a revert brought back. A process may open one embedded
// root in its life: meson runs each guest test in a process of its own (a gtest filter each).
#include <gtest/gtest.h>

#include <linux/input-event-codes.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "guestview/disk_secret.hpp"
#include "guestview/domain_model.hpp"
#include "guestview/jobs/guest_snapshots.hpp"
#include "guestview/jobs/snapshot_xml.hpp"
#include "guestview/libvirt_handles.hpp"
#include "guestview/machine_model.hpp"
#include "guestview/os_info.hpp"
#include "linux_test_guest.hpp"
#include "tests/bench/bench_guest.hpp"
#include "tests/bench/libvirt_event_thread.hpp"
#include "tests/firmware/ovmf.hpp"
#include "tests/guestview/recording_job_context.hpp"
#include "tests/guestview/system_libvirtd.hpp"

namespace phyllome::guestview {
namespace {

using namespace std::chrono_literals;
using testing::RecordingJobContext;
namespace fs = std::filesystem;

constexpr auto boot_deadline = 300s; // OVMF under TCG takes its time before the kernel runs

class GuestSnapshots : public ::testing::Test {
protected:
    void SetUp() override {
        if (const std::string why = test::ovmf_missing_reason(); !why.empty())
            GTEST_SKIP() << why;
        if (const std::string why = test::linux_test_guest_missing(kernel_dir_, {"virsh", "qemu-img"}); !why.empty())
            GTEST_SKIP() << why;
        std::string error;
        db_ = OsDatabase::load(error);
        if (!db_)
            GTEST_SKIP() << error;
        // Our own root: one process at a time may open an embedded root. Traversable, as swtpm
        // runs as its own user.
        char dir[] = "/var/tmp/phyllome-snapshot-XXXXXX";
        ASSERT_NE(mkdtemp(dir), nullptr);
        root_ = dir;
        chmod(root_.c_str(), 0755);
        fs::create_directories(root_ + "/disks");
        events_.emplace();
    }

    void TearDown() override {
        // Through our connection: once a process opened an embedded root it keeps it to the
        // end, so the guest's own virsh cannot reach it any more.
        if (domain_) {
            virDomainDestroy(domain_.get());
            virDomainUndefineFlags(domain_.get(), VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA | VIR_DOMAIN_UNDEFINE_NVRAM |
                                                      VIR_DOMAIN_UNDEFINE_TPM);
        }
        domain_.reset();
        connection_.reset();
        events_.reset();
        guest_.reset();
        if (daemon_ && HasFailure())
            std::cerr << "libvirtd's log:\n" << daemon_->log();
        daemon_.reset();
        if (!root_.empty() && !HasFailure()) {
            std::error_code ec;
            fs::remove_all(root_, ec);
        }
    }

    // Defines and starts the guest with the shell's model; the connection opens afterwards.
    // `encrypt`: a LUKS disk with its secret in the libvirt at `uri`, as new guests get on the
    // system libvirt.
    void boot(const std::string& name, const std::string& kernel_args = {}, const std::string& uri = {},
              bool encrypt = false) {
        const auto os = db_->find("debian12");
        ASSERT_TRUE(os.has_value()) << "osinfo-db lacks debian12";
        ModelHost host;
        host.network = GuestNetwork::User;
        host.kvm = false;
        host.tpm = test::have_program("swtpm") && test::have_program("swtpm_setup");
        GuestSpec spec;
        spec.name = name;
        spec.iso_path = root_ + "/installer.iso";
        spec.disk_dir = root_ + "/disks";
        spec.encrypt_disk = false;
        spec.memory_mb = 512;
        spec.cpus = 1;
        spec.disk_size_gb = 1;
        std::ofstream(spec.iso_path, std::ios::binary) << std::string(64 * 1024, '\0');
        disk_ = phyllome_disk_path(spec);
        std::vector<std::string> create{"qemu-img", "create", "-q", "-f", "qcow2"};
        if (encrypt) {
            ConnectionPtr secrets{virConnectOpen(uri.c_str())};
            ASSERT_TRUE(secrets) << last_libvirt_error();
            spec.encrypt_disk = true;
            const DiskSecret key = define_disk_secret(secrets.get(), spec);
            ASSERT_TRUE(key.secret) << key.error << key.note;
            create.insert(create.end(), {"--object", "secret,id=key0,data=" + key.passphrase, "-o",
                                         "encrypt.format=luks,encrypt.key-secret=key0"});
        }
        create.insert(create.end(), {disk_, "1G"});
        const auto made = test::run_command(create);
        ASSERT_EQ(made.exit_code, 0) << made.err;

        bench::BenchGuestSpec guest_spec;
        guest_spec.kernel_dir = kernel_dir_;
        guest_spec.embed_root = root_;
        guest_spec.name = name;
        guest_spec.kernel_args = "phyllome_disk=1 phyllome_disk_mark=m " + kernel_args;
        guest_spec.machine_xml = phyllome_domain_xml(spec, choose_model(*os, host), host, *os);
        guest_spec.uri = uri;
        guest_.emplace(guest_spec);
        const std::string error = guest_->start();
        ASSERT_TRUE(error.empty()) << error;
        connection_.reset(virConnectOpen(guest_->uri().c_str()));
        ASSERT_TRUE(connection_) << last_libvirt_error();
        domain_.reset(virDomainLookupByName(connection_.get(), name.c_str()));
        ASSERT_TRUE(domain_) << last_libvirt_error();
    }

    // The guest's next "disk says X" (after `mark` in its serial log) and the "disk wrote" after it.
    std::string disk_says(std::uint64_t mark) {
        auto said = guest_->wait_report("phyllome-guest: disk says ", mark, boot_deadline);
        if (!said)
            return "(no report) " + guest_->serial_tail();
        guest_->wait_report("phyllome-guest: disk wrote ", mark, 60s);
        return *said;
    }

    // Enter on the guest's keyboard: it reads its disk and writes the next marker.
    std::string press_enter() {
        const std::uint64_t mark = guest_->serial_mark();
        unsigned int key = KEY_ENTER;
        EXPECT_EQ(virDomainSendKey(domain_.get(), VIR_KEYCODE_SET_LINUX, 0, &key, 1, 0), 0) << last_libvirt_error();
        return disk_says(mark);
    }

    // Every file in the disks folder (the guest's disk, overlays, memory images).
    std::set<std::string> disk_files() const {
        std::set<std::string> files;
        for (const auto& entry : fs::directory_iterator(root_ + "/disks"))
            files.insert(entry.path().filename().string());
        return files;
    }

    void shut_off() { ASSERT_EQ(virDomainDestroy(domain_.get()), 0) << last_libvirt_error(); }
    void start() { ASSERT_EQ(virDomainCreate(domain_.get()), 0) << last_libvirt_error(); }

    std::unique_ptr<OsDatabase> db_;
    std::string kernel_dir_, root_, disk_;
    std::optional<testing::SystemLibvirtd> daemon_;
    std::optional<bench::BenchGuest> guest_;
    std::optional<bench::LibvirtEventThread> events_; // QEMU's monitor, for our connection
    ConnectionPtr connection_;
    DomainPtr domain_;
};

double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

TEST_F(GuestSnapshots, RunningGuestRevertsToItsMemoryAndDiskAndDeletingKeepsLaterSnapshots) {
    ASSERT_NO_FATAL_FAILURE(boot("phyllome-snap-running"));
    EXPECT_EQ(disk_says(0), "nothing");
    const auto original_files = disk_files();
    // Cancelled before: nothing happens at all.
    {
        RecordingJobContext job;
        job.cancel();
        const JobOutcome outcome = take_snapshot(connection_.get(), "phyllome-snap-running", "never", job);
        EXPECT_TRUE(outcome.cancelled) << outcome.message;
        EXPECT_EQ(job.watch_count(), 0);
        EXPECT_TRUE(list_snapshots(domain_.get()).empty());
        EXPECT_EQ(disk_files(), original_files);
    }

    const std::int64_t before = std::time(nullptr);
    RecordingJobContext take_first;
    auto clock = std::chrono::steady_clock::now();
    JobOutcome outcome = take_snapshot(connection_.get(), "phyllome-snap-running", "first", take_first);
    ASSERT_TRUE(outcome.ok) << outcome.message;
    std::cout << "[ measure ] take with memory: " << seconds_since(clock) << " s\n";
    EXPECT_EQ(take_first.watch_count(), 1) << "a snapshot with memory is a libvirt job the runner watches";
    EXPECT_FALSE(take_first.steps().empty());
    EXPECT_EQ(outcome.guest, "phyllome-snap-running");
    for (const auto& entry : fs::directory_iterator(root_ + "/disks"))
        std::cout << "[ measure ] " << entry.path().filename().string() << ": " << fs::file_size(entry.path())
                  << " bytes\n";
    EXPECT_EQ(press_enter(), "m.1");

    RecordingJobContext take_second;
    outcome = take_snapshot(connection_.get(), "phyllome-snap-running", "", take_second);
    ASSERT_TRUE(outcome.ok) << outcome.message;
    const std::string second = default_snapshot_name(std::time(nullptr));
    EXPECT_EQ(press_enter(), "m.2");

    auto list = list_snapshots(domain_.get());
    ASSERT_EQ(list.size(), 2u);
    EXPECT_TRUE(list[0].name == second || list[0].name == default_snapshot_name(before)) << list[0].name;
    EXPECT_EQ(list[1].name, "first");
    EXPECT_GE(list[1].created, before);
    EXPECT_LE(list[1].created, list[0].created);
    EXPECT_LE(list[0].created, std::time(nullptr));
    EXPECT_EQ(list[1].state, "running");
    EXPECT_TRUE(list[0].current);
    EXPECT_FALSE(list[1].current);
    EXPECT_EQ(list[0].parent, "first");
    EXPECT_EQ(list[1].parent, "");
    // What removing the guest must delete besides its current disk: both memory images, the
    // original disk and the first overlay (the second is the current disk).
    std::set<std::string> held;
    for (const std::string& file : snapshot_files(domain_.get()))
        held.insert(fs::path(file).filename().string());
    EXPECT_TRUE(held.contains("phyllome-snap-running.qcow2"));
    EXPECT_TRUE(held.contains("phyllome-snap-running-vda.first.qcow2"));
    EXPECT_TRUE(held.contains("phyllome-snap-running.first.mem"));
    EXPECT_TRUE(held.contains("phyllome-snap-running." + file_tag(list[0].name) + ".mem"));
    EXPECT_FALSE(held.contains("installer.iso")) << "a CD-ROM is the user's";
    const std::string second_name = list[0].name;

    // Deleting the older one merges it; the later one still holds m.2 (and its memory).
    RecordingJobContext remove;
    outcome = delete_snapshot(connection_.get(), "phyllome-snap-running", "first", remove);
    ASSERT_TRUE(outcome.ok) << outcome.message;
    list = list_snapshots(domain_.get());
    ASSERT_EQ(list.size(), 1u);
    EXPECT_EQ(list[0].name, second_name);

    RecordingJobContext revert;
    clock = std::chrono::steady_clock::now();
    outcome = revert_snapshot(connection_.get(), "phyllome-snap-running", second_name, revert);
    ASSERT_TRUE(outcome.ok) << outcome.message;
    std::cout << "[ measure ] revert with memory: " << seconds_since(clock) << " s\n";
    EXPECT_EQ(virDomainIsActive(domain_.get()), 1) << "a snapshot with memory comes back running";
    EXPECT_EQ(press_enter(), "m.2") << "the disk as it was at the snapshot, not m.3";
    EXPECT_EQ(press_enter(), "m.3") << "and the guest keeps working";

    RecordingJobContext unknown;
    outcome = revert_snapshot(connection_.get(), "phyllome-snap-running", "first", unknown);
    EXPECT_FALSE(outcome.ok);
    EXPECT_EQ(outcome.message, "guest 'phyllome-snap-running' has no snapshot named 'first'");
}

TEST_F(GuestSnapshots, ShutOffGuestSnapshotAndRevert) {
    ASSERT_NO_FATAL_FAILURE(boot("phyllome-snap-off"));
    EXPECT_EQ(disk_says(0), "nothing");
    const auto tpm = guest_->wait_tpm_report(10s);
    ASSERT_NO_FATAL_FAILURE(shut_off());

    RecordingJobContext take;
    auto clock = std::chrono::steady_clock::now();
    JobOutcome outcome = take_snapshot(connection_.get(), "phyllome-snap-off", "off", take);
    ASSERT_TRUE(outcome.ok) << outcome.message;
    std::cout << "[ measure ] take shut off: " << seconds_since(clock) << " s\n";
    EXPECT_EQ(take.watch_count(), 0) << "no libvirt job without memory";
    EXPECT_FALSE(take.steps().empty()) << "phases instead";
    const auto list = list_snapshots(domain_.get());
    ASSERT_EQ(list.size(), 1u);
    EXPECT_EQ(list[0].state, "shut off");

    ASSERT_NO_FATAL_FAILURE(start());
    EXPECT_EQ(disk_says(0), "m.1");
    ASSERT_NO_FATAL_FAILURE(shut_off());

    RecordingJobContext revert;
    clock = std::chrono::steady_clock::now();
    outcome = revert_snapshot(connection_.get(), "phyllome-snap-off", "off", revert);
    ASSERT_TRUE(outcome.ok) << outcome.message;
    std::cout << "[ measure ] revert shut off: " << seconds_since(clock) << " s\n";
    EXPECT_EQ(virDomainIsActive(domain_.get()), 0);
    ASSERT_NO_FATAL_FAILURE(start());
    EXPECT_EQ(disk_says(0), "m.1") << "the disk as it was at the snapshot, not m.2";
    EXPECT_EQ(guest_->wait_tpm_report(10s), tpm) << "the TPM survives the revert";

    ASSERT_NO_FATAL_FAILURE(shut_off());
    RecordingJobContext remove;
    outcome = delete_snapshot(connection_.get(), "phyllome-snap-off", "off", remove);
    ASSERT_TRUE(outcome.ok) << outcome.message;
    EXPECT_TRUE(list_snapshots(domain_.get()).empty());
    ASSERT_NO_FATAL_FAILURE(start());
    EXPECT_EQ(disk_says(0), "m.2") << "deleting kept what the guest wrote after the revert";
}

// Cancelled half-way: the runner's virDomainAbortJob lands while the memory is saved. A memory
// image of 512 MiB, mostly zero, is saved in well under a second: here the guest fills 128 MiB
// with noise and the embedded libvirt gzips memory images, so the save takes seconds.
TEST_F(GuestSnapshots, CancelledHalfWayLeavesNothing) {
    fs::create_directories(root_ + "/etc");
    std::ofstream(root_ + "/etc/qemu.conf") << "stdio_handler = \"file\"\nsnapshot_image_format = \"gzip\"\n"
                                            << (geteuid() == 0 ? "user = \"root\"\ngroup = \"root\"\n" : "");
    ASSERT_NO_FATAL_FAILURE(boot("phyllome-snap-cancel", "phyllome_fill_mb=128"));
    EXPECT_EQ(disk_says(0), "nothing");
    const auto original_files = disk_files();

    RecordingJobContext job;
    const std::string memory_image = root_ + "/disks/phyllome-snap-cancel.aborted.mem";
    std::atomic<bool> done{false}, aborted{false};
    std::thread aborter([&] {
        while (!done) {
            // Half-way: the memory image is being written. (An abort sent before libvirt's job
            // may be aborted waits for the job's end.) Then as the runner does on a cancel.
            std::error_code ec;
            virDomainPtr watched = job.watched();
            if (watched != nullptr && fs::file_size(memory_image, ec) > 0 && !ec) {
                job.cancel();
                if (virDomainAbortJob(watched) == 0) {
                    aborted = true;
                    return;
                }
            }
            std::this_thread::sleep_for(1ms);
        }
    });
    const JobOutcome outcome = take_snapshot(connection_.get(), "phyllome-snap-cancel", "aborted", job);
    done = true;
    aborter.join();
    EXPECT_TRUE(aborted) << "the abort came too late: " << outcome.message;
    EXPECT_FALSE(outcome.ok) << outcome.message;
    EXPECT_TRUE(outcome.cancelled) << outcome.message;
    EXPECT_EQ(job.watch_count(), 1);
    EXPECT_EQ(job.watched(), nullptr) << "the watch ends with the libvirt call";
    EXPECT_TRUE(list_snapshots(domain_.get()).empty());
    EXPECT_EQ(disk_files(), original_files) << "no overlay or memory image left";
    EXPECT_EQ(virDomainIsActive(domain_.get()), 1);
    EXPECT_EQ(press_enter(), "m.1") << "the guest runs on";
}

// The same on the system daemon (qemu:///system, here a private one) with the disk new guests
// get there: LUKS inside the qcow2, its key a libvirt secret. The overlay is encrypted too.
TEST_F(GuestSnapshots, SystemDaemonRevertsARunningGuestWithAnEncryptedDisk) {
    if (std::string why = testing::SystemLibvirtd::unavailable(); !why.empty())
        GTEST_SKIP() << why;
    daemon_.emplace();
    switch (daemon_->start()) {
    case testing::SystemLibvirtd::Started::Ok: break;
    case testing::SystemLibvirtd::Started::DaemonFailed:
        GTEST_SKIP() << "the private system libvirtd did not come up: " << daemon_->error();
    case testing::SystemLibvirtd::Started::OurFault: FAIL() << daemon_->error() << "\n" << daemon_->log();
    }
    ASSERT_NO_FATAL_FAILURE(boot("phyllome-snap-system", {}, daemon_->uri(), true));
    EXPECT_EQ(disk_says(0), "nothing");

    RecordingJobContext take;
    JobOutcome outcome = take_snapshot(connection_.get(), "phyllome-snap-system", "first", take);
    ASSERT_TRUE(outcome.ok) << outcome.message;
    EXPECT_EQ(take.watch_count(), 1);
    const auto info = test::run_command(
        {"qemu-img", "info", "-U", root_ + "/disks/phyllome-snap-system-vda.first.qcow2"});
    EXPECT_NE(info.out.find("encrypted: yes"), std::string::npos) << info.out << info.err;
    EXPECT_EQ(press_enter(), "m.1");
    RecordingJobContext revert;
    outcome = revert_snapshot(connection_.get(), "phyllome-snap-system", "first", revert);
    ASSERT_TRUE(outcome.ok) << outcome.message;
    EXPECT_EQ(virDomainIsActive(domain_.get()), 1);
    EXPECT_EQ(press_enter(), "m.1") << "the disk as it was at the snapshot, not m.2";
    RecordingJobContext remove;
    outcome = delete_snapshot(connection_.get(), "phyllome-snap-system", "first", remove);
    ASSERT_TRUE(outcome.ok) << outcome.message;
    EXPECT_TRUE(list_snapshots(domain_.get()).empty());
    EXPECT_EQ(press_enter(), "m.2") << "deleting kept what the guest wrote after the revert";
}

// No QEMU needed: a defined guest is enough for the refusals.
TEST_F(GuestSnapshots, ClearErrorsForUnknownNamesAndDisksLibvirtCannotSnapshot) {
    fs::create_directories(root_ + "/etc");
    std::ofstream(root_ + "/etc/qemu.conf") << "stdio_handler = \"file\"\n";
    connection_.reset(virConnectOpen(("qemu:///embed?root=" + root_).c_str()));
    ASSERT_TRUE(connection_) << last_libvirt_error();
    const std::string disk = root_ + "/disks/plain.qcow2";
    ASSERT_EQ(test::run_command({"qemu-img", "create", "-q", "-f", "qcow2", disk, "64M"}).exit_code, 0);
    const std::string xml = "<domain type='qemu'><name>plain</name><memory unit='MiB'>128</memory>"
                            "<os><type arch='x86_64' machine='q35'>hvm</type></os><devices>"
                            "<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='" +
                            disk +
                            "'/><target dev='vda' bus='virtio'/></disk>"
                            "<disk type='network' device='disk'><driver name='qemu' type='raw'/>"
                            "<source protocol='nbd' name='export'><host name='127.0.0.1' port='10809'/></source>"
                            "<target dev='vdb' bus='virtio'/></disk></devices></domain>";
    DomainPtr plain{virDomainDefineXML(connection_.get(), xml.c_str())};
    ASSERT_TRUE(plain) << last_libvirt_error();

    RecordingJobContext job;
    EXPECT_EQ(take_snapshot(connection_.get(), "nobody", "a", job).message, "there is no guest named 'nobody'");
    EXPECT_EQ(revert_snapshot(connection_.get(), "plain", "y", job).message, "guest 'plain' has no snapshot named 'y'");
    EXPECT_EQ(delete_snapshot(connection_.get(), "plain", "y", job).message, "guest 'plain' has no snapshot named 'y'");
    const JobOutcome network = take_snapshot(connection_.get(), "plain", "a", job);
    EXPECT_FALSE(network.ok);
    EXPECT_EQ(network.message,
              "cannot take a snapshot of guest 'plain': its disk vdb is a 'network' disk, which libvirt cannot snapshot");
    EXPECT_NE(take_snapshot(connection_.get(), "plain", "a/b", job).message.find("may not hold '/'"), std::string::npos);
    EXPECT_TRUE(list_snapshots(plain.get()).empty());
    EXPECT_EQ(disk_files(), std::set<std::string>{"plain.qcow2"});
    virDomainUndefine(plain.get());
}

TEST(SnapshotNames, DefaultNameIsTheLocalDateAndMinute) {
    setenv("TZ", "UTC", 1);
    tzset();
    EXPECT_EQ(default_snapshot_name(1796479380), "2026-12-05 14:03");
    EXPECT_EQ(snapshot_name_problem("2026-12-05 14:03"), "");
    EXPECT_NE(snapshot_name_problem(""), "");
    EXPECT_NE(snapshot_name_problem(" x"), "");
    EXPECT_NE(snapshot_name_problem("a\nb"), "");
}

// Which disks a snapshot freezes: writable hard disks; never CD-ROMs or read-only disks. An
// encrypted disk's overlay is encrypted with the same secret.
TEST(SnapshotXml, CoversWritableDisksAndKeepsTheirEncryption) {
    const std::string domain = R"(<domain type='kvm'><name>g</name><devices>
      <disk type='file' device='disk'><driver name='qemu' type='qcow2'/>
        <source file='/images/g.qcow2'><encryption format='luks'><secret type='passphrase' uuid='u-1'/></encryption></source>
        <target dev='vda' bus='virtio'/></disk>
      <disk type='file' device='cdrom'><source file='/iso/installer.iso'/><target dev='sdb' bus='sata'/><readonly/></disk>
      <disk type='file' device='cdrom'><target dev='sdc' bus='sata'/><readonly/></disk>
      <disk type='file' device='disk'><source file='/images/ro.raw'/><target dev='vdc' bus='virtio'/><readonly/></disk>
      <disk type='file' device='disk'><source file='/images/t.qcow2'/><target dev='vdd' bus='virtio'/><transient/></disk>
      <channel type='qemu-vdagent'><target type='virtio' name='com.redhat.spice.0'/><alias name='channel0'/></channel>
    </devices></domain>)";
    std::string error;
    auto disks = snapshot_disks(domain, &error);
    ASSERT_TRUE(error.empty()) << error;
    ASSERT_EQ(disks.size(), 5u);
    EXPECT_TRUE(disks[0].covered);
    EXPECT_NE(disks[0].encryption_xml.find("uuid=\"u-1\""), std::string::npos) << disks[0].encryption_xml;
    EXPECT_FALSE(disks[1].covered);
    EXPECT_FALSE(disks[2].covered);
    EXPECT_FALSE(disks[3].covered);
    EXPECT_EQ(disks[4].problem, "its disk vdd is transient (its changes are dropped at shutdown)");

    disks[0].overlay = "/images/g-vda.a-b.qcow2";
    disks.pop_back();
    const std::string request = snapshot_request_xml("a b & c", "/images/g.a-b.mem", disks);
    EXPECT_NE(request.find("<name>a b &amp; c</name>"), std::string::npos) << request;
    EXPECT_NE(request.find("<memory snapshot='external' file='/images/g.a-b.mem'/>"), std::string::npos) << request;
    EXPECT_NE(request.find("<source file='/images/g-vda.a-b.qcow2'><encryption format=\"luks\">"), std::string::npos)
        << request;
    EXPECT_NE(request.find("<disk name='sdb' snapshot='no'/>"), std::string::npos) << request;
    EXPECT_NE(snapshot_request_xml("x", "", disks).find("<memory snapshot='no'/>"), std::string::npos);
    EXPECT_EQ(file_tag("2026-12-05 14:03"), "2026-12-05-14-03");

    const auto blocking = memory_blocking_devices(domain);
    ASSERT_EQ(blocking.size(), 1u);
    EXPECT_EQ(blocking[0].find("alias"), std::string::npos) << "libvirt names a plugged-in device itself";
    EXPECT_NE(blocking[0].find("com.redhat.spice.0"), std::string::npos);
}

TEST(SnapshotXml, ReadsNameTimeStateAndParent) {
    SnapshotInfo info;
    ASSERT_TRUE(parse_snapshot_info("<domainsnapshot><name>b</name><description>before the update</description>"
                                    "<state>shutoff</state><parent><name>a</name></parent>"
                                    "<creationTime>1796479380</creationTime></domainsnapshot>",
                                    info));
    EXPECT_EQ(info.name, "b");
    EXPECT_EQ(info.created, 1796479380);
    EXPECT_EQ(info.state, "shut off");
    EXPECT_EQ(info.parent, "a");
    EXPECT_EQ(info.description, "before the update");
    EXPECT_FALSE(parse_snapshot_info("<domain/>", info));
}

} // namespace
} // namespace phyllome::guestview
