// Issue 17, back up and restore, export and import, end to end: the Linux test guest
// (scripts/build-bench-guest) booted under TCG with the shell's own machine model for Debian
// (q35, OVMF with its NVRAM, a TPM through swtpm) in an embedded libvirt of this test's own
// (mkdtemp root: parallel test programs never share one). A running guest is backed up by
// libvirt's push-mode backup job, its disk destroyed, the backup restored and booted; damaged
// backups are refused before anything is made; a shut-off guest is backed up by copying; an
// export is imported into ANOTHER embedded root (a child process: libvirt lets one process open
// only one embedded root) and boots there; a cancel at any point leaves nothing behind.
#include <gtest/gtest.h>

#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <string>
#include <thread>

#include <fmt/format.h>

#include "guestview/embedded_libvirt.hpp"
#include "guestview/jobs/backup_manifest.hpp"
#include "guestview/jobs/guest_archive.hpp"
#include "guestview/jobs/guest_backup.hpp"
#include "guestview/jobs/guest_restore.hpp"
#include "guestview/libvirt_handles.hpp"
#include "guestview/os_info.hpp"
#include "linux_model_guest.hpp"
#include "linux_test_guest.hpp"
#include "shell_process.hpp"
#include "tests/bench/bench_guest.hpp"
#include "tests/firmware/ovmf.hpp"
#include "tests/guestview/recording_job_context.hpp"

namespace phyllome::guestview {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;
using testing::RecordingJobContext;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

std::string read_all(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::size_t entries_in(const std::string& dir) {
    std::error_code ec;
    std::size_t n = 0;
    for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator(); ++it)
        ++n;
    return n;
}

std::string make_root(const std::string& label) {
    std::string pattern = fmt::format("/var/tmp/phyllome-{}-XXXXXX", label);
    if (::mkdtemp(pattern.data()) == nullptr)
        return {};
    // As root libvirt runs swtpm as tss, which must reach its state under the root (mkdtemp: 0700).
    fs::permissions(pattern, fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
    fs::create_directories(pattern + "/disks");
    prepare_embedded_root("qemu:///embed?root=" + pattern);
    return pattern;
}

bool domain_exists(virConnectPtr connection, const std::string& name) {
    DomainPtr domain{virDomainLookupByName(connection, name.c_str())};
    virResetLastError();
    return domain != nullptr;
}

void destroy_and_undefine(virConnectPtr connection, const std::string& name) {
    DomainPtr domain{virDomainLookupByName(connection, name.c_str())};
    virResetLastError();
    if (!domain)
        return;
    if (virDomainIsActive(domain.get()) > 0)
        virDomainDestroy(domain.get());
    virDomainUndefineFlags(domain.get(), VIR_DOMAIN_UNDEFINE_NVRAM | VIR_DOMAIN_UNDEFINE_TPM);
    virResetLastError();
}

// The child's side of an import into another embedded root: prints what happened on stdout.
int import_child(const std::string& root, const std::string& file, std::uint64_t cancel_after, bool boot) {
    const std::string uri = "qemu:///embed?root=" + root;
    ConnectionPtr connection{virConnectOpen(uri.c_str())};
    if (!connection) {
        std::cout << "error cannot open " << uri << ": " << last_libvirt_error() << "\n";
        return 1;
    }
    RecordingJobContext job;
    if (cancel_after > 0)
        job.cancel_after_bytes(cancel_after);
    const auto start = Clock::now();
    const JobOutcome outcome = import_guest(connection.get(), file, root + "/disks", job);
    std::cout << fmt::format("outcome ok={} cancelled={} guest={} seconds={:.1f}\nmessage {}\n", outcome.ok,
                             outcome.cancelled, outcome.guest, seconds_since(start), outcome.message);
    std::cout << "domains " << virConnectNumOfDefinedDomains(connection.get()) + virConnectNumOfDomains(connection.get())
              << "\n";
    if (!outcome.ok || !boot)
        return 0;
    DomainPtr domain{virDomainLookupByName(connection.get(), outcome.guest.c_str())};
    // The archive's serial log path is confined to the disk folder on import.
    const std::string serial = fmt::format("{}/disks/{}-0.log", root, outcome.guest);
    LibvirtString xml{domain ? virDomainGetXMLDesc(domain.get(), VIR_DOMAIN_XML_INACTIVE) : nullptr};
    std::cout << "serial confined " << (xml && std::string(xml.get()).find(serial) != std::string::npos ? "yes" : "no")
              << "\n";
    if (!domain || virDomainCreate(domain.get()) < 0) {
        std::cout << "start failed " << last_libvirt_error() << "\n";
        return 0;
    }
    const bool booted =
        phyllome::test::wait_until([&] { return read_all(serial).find("framebuffer ready") != std::string::npos; }, 300s);
    std::cout << "booted " << (booted ? "yes" : "no") << "\n";
    std::optional<std::string> tpm;
    phyllome::test::wait_until(
        [&] { return (tpm = bench::serial_report(read_all(serial), bench::tpm_report_prefix)).has_value(); }, 120s);
    std::cout << "tpm " << tpm.value_or("") << "\n";
    destroy_and_undefine(connection.get(), outcome.guest);
    return 0;
}

class GuestBackupQemu : public ::testing::Test {
protected:
    void SetUp() override {
        if (const std::string why = phyllome::test::ovmf_missing_reason(); !why.empty())
            GTEST_SKIP() << why;
        std::string error;
        db_ = OsDatabase::load(error);
        if (!db_)
            GTEST_SKIP() << error;
        if (const std::string why = phyllome::test::linux_test_guest_missing(kernel_dir_, {"qemu-img", "qemu-io"});
            !why.empty())
            GTEST_SKIP() << why;
        tpm_ = phyllome::test::have_program("swtpm") && phyllome::test::have_program("swtpm_setup");
        // libvirt opens one embedded root per process: every test here shares the suite's.
        if (suite_root().empty())
            suite_root() = make_root("backup-a");
        root_ = suite_root();
        ASSERT_FALSE(root_.empty());
        uri_ = "qemu:///embed?root=" + root_;
        connection_.reset(virConnectOpen(uri_.c_str()));
        ASSERT_TRUE(connection_) << last_libvirt_error();
    }

    void TearDown() override {
        if (connection_) {
            destroy_and_undefine(connection_.get(), name_);
            connection_.reset();
        }
        guest_.reset();
        std::error_code ec;
        for (const std::string& dir : {root_ + "/disks", root_ + "/backups", root_ + "/exports", other_root_})
            if (!dir.empty() && dir != "/disks")
                fs::remove_all(dir, ec);
        fs::create_directories(root_ + "/disks", ec);
    }

    static void TearDownTestSuite() {
        std::error_code ec;
        if (!suite_root().empty())
            fs::remove_all(suite_root(), ec);
    }

    static std::string& suite_root() {
        static std::string root;
        return root;
    }

    // Defines and starts the Linux guest with the Debian model and a disk holding 128 MiB of a
    // pattern, then waits for its framebuffer.
    void boot_guest(const std::string& name) {
        name_ = name;
        phyllome::test::LinuxModelGuest guest =
            phyllome::test::linux_model_guest(*db_, name, kernel_dir_, root_, root_ + "/disks", tpm_, 128u << 20);
        ASSERT_EQ(guest.error, "");
        disk_ = guest.disk;
        guest_.emplace(guest.boot);
        DomainPtr domain{virDomainDefineXML(connection_.get(), guest_->definition_xml().c_str())};
        ASSERT_TRUE(domain) << last_libvirt_error();
        ASSERT_EQ(virDomainCreate(domain.get()), 0) << last_libvirt_error();
        ASSERT_TRUE(guest_->wait_booted(300s)) << guest_->serial_tail();
    }

    bool runs() {
        DomainPtr domain{virDomainLookupByName(connection_.get(), name_.c_str())};
        return domain && virDomainIsActive(domain.get()) == 1;
    }

    BackupManifest manifest_of(const std::string& folder) {
        std::string error;
        auto manifest = parse_manifest(read_all(folder + "/manifest"), error);
        EXPECT_TRUE(manifest) << error;
        return manifest.value_or(BackupManifest{});
    }

    std::string nvram_path(const std::string& name) const { return fmt::format("{}/lib/qemu/nvram/{}_VARS.fd", root_, name); }

    std::unique_ptr<OsDatabase> db_;
    std::string kernel_dir_, root_, other_root_, uri_, name_, disk_;
    bool tpm_ = false;
    ConnectionPtr connection_;
    std::optional<bench::BenchGuest> guest_; // never start()ed: its destructor runs no virsh
};

TEST_F(GuestBackupQemu, RunningGuestIsBackedUpRefusedWhenDamagedAndRestoredBoots) {
    boot_guest("phyllome-backup-run");
    const std::string backups = root_ + "/backups";
    fs::create_directories(backups);

    // Cancelled half-way through libvirt's job: nothing left, the guest runs on.
    RecordingJobContext cancel_job;
    cancel_job.cancel_after_bytes(1);
    const JobOutcome cancelled = backup_guest(connection_.get(), name_, backups, cancel_job);
    EXPECT_FALSE(cancelled.ok) << cancelled.message;
    EXPECT_TRUE(cancelled.cancelled) << cancelled.message;
    EXPECT_EQ(entries_in(backups), 0u) << "a cancelled backup leaves no folder";
    EXPECT_GE(cancel_job.watch_count(), 1) << "the runner saw the libvirt job";
    EXPECT_EQ(cancel_job.watched(), nullptr);
    EXPECT_TRUE(runs());

    RecordingJobContext job;
    auto start = Clock::now();
    const JobOutcome backed_up = backup_guest(connection_.get(), name_, backups, job);
    const double backup_seconds = seconds_since(start);
    ASSERT_TRUE(backed_up.ok) << backed_up.message;
    const std::string folder = backed_up.message;
    EXPECT_TRUE(folder.starts_with(backups + "/" + name_ + "-")) << folder;
    EXPECT_GE(job.watch_count(), 1) << "a running guest is backed up by libvirt's backup job";
    EXPECT_EQ(job.watched(), nullptr);
    EXPECT_TRUE(runs()) << "the guest keeps running";
    const BackupManifest manifest = manifest_of(folder);
    int disks = 0, nvram = 0, tpm = 0;
    for (const BackupFile& file : manifest.files) {
        disks += file.kind == BackupFileKind::Disk;
        nvram += file.kind == BackupFileKind::Nvram;
        tpm += file.kind == BackupFileKind::Tpm;
        if (file.kind == BackupFileKind::Disk) {
            EXPECT_EQ(file.format, "qcow2");
        }
    }
    EXPECT_EQ(disks, 1);
    EXPECT_EQ(nvram, 1);
    EXPECT_EQ(tpm > 0, tpm_) << "swtpm's state is in the backup";
    // The same disk contents (the guest writes nothing to it); -U: the running QEMU holds the lock.
    const auto same = phyllome::test::run_command({"qemu-img", "compare", "-U", disk_, folder + "/disk-vda.qcow2"}, {}, 120s);
    EXPECT_EQ(same.exit_code, 0) << same.out << same.err;
    std::cout << fmt::format("[measure] backup of the running guest: {} bytes in {} files, {:.1f} s\n",
                             manifest_bytes(manifest), manifest.files.size(), backup_seconds);

    // Under another name beside the running original: its own uuid, disk and NVRAM.
    RecordingJobContext copy_job;
    const std::string copy_name = name_ + "-copy";
    const JobOutcome copied = restore_guest(connection_.get(), folder, copy_name, root_ + "/disks", copy_job);
    ASSERT_TRUE(copied.ok) << copied.message;
    EXPECT_EQ(copied.guest, copy_name);
    EXPECT_TRUE(fs::exists(root_ + "/disks/" + copy_name + ".qcow2"));
    EXPECT_TRUE(fs::exists(nvram_path(copy_name)));
    EXPECT_TRUE(runs()) << "the original runs on";
    destroy_and_undefine(connection_.get(), copy_name);
    fs::remove(root_ + "/disks/" + copy_name + ".qcow2");

    // The guest's disk is destroyed.
    {
        DomainPtr domain{virDomainLookupByName(connection_.get(), name_.c_str())};
        ASSERT_EQ(virDomainDestroy(domain.get()), 0) << last_libvirt_error();
        std::ofstream(disk_, std::ios::binary | std::ios::trunc) << "this disk is gone";
    }
    // A guest of that name (shut off, broken) still exists: refused.
    RecordingJobContext exists_job;
    const JobOutcome refused_exists = restore_guest(connection_.get(), folder, "", root_ + "/disks", exists_job);
    EXPECT_FALSE(refused_exists.ok);
    EXPECT_NE(refused_exists.message.find("exists"), std::string::npos) << refused_exists.message;
    destroy_and_undefine(connection_.get(), name_);
    fs::remove(disk_);
    ASSERT_FALSE(fs::exists(nvram_path(name_)));

    // Damaged backups are refused, naming the file, before anything is made.
    auto nothing_made = [&] {
        EXPECT_FALSE(domain_exists(connection_.get(), name_));
        EXPECT_FALSE(fs::exists(disk_));
        EXPECT_FALSE(fs::exists(nvram_path(name_)));
        EXPECT_EQ(entries_in(root_ + "/disks"), 0u);
    };
    const std::string backup_disk = folder + "/disk-vda.qcow2";
    const auto flip = [&] {
        std::fstream f(backup_disk, std::ios::in | std::ios::out | std::ios::binary);
        f.seekg(static_cast<std::streamoff>(fs::file_size(backup_disk) / 2));
        char byte = 0;
        f.read(&byte, 1);
        byte = static_cast<char>(byte ^ 0x01);
        f.seekp(static_cast<std::streamoff>(fs::file_size(backup_disk) / 2));
        f.write(&byte, 1);
    };
    flip();
    RecordingJobContext damaged_job;
    const JobOutcome damaged = restore_guest(connection_.get(), folder, "", root_ + "/disks", damaged_job);
    EXPECT_FALSE(damaged.ok);
    EXPECT_NE(damaged.message.find("'disk-vda.qcow2' does not match its SHA-256"), std::string::npos) << damaged.message;
    nothing_made();
    flip();
    const std::string backup_nvram = folder + "/nvram.fd";
    fs::rename(backup_nvram, backup_nvram + ".away");
    RecordingJobContext missing_job;
    const JobOutcome missing = restore_guest(connection_.get(), folder, "", root_ + "/disks", missing_job);
    EXPECT_FALSE(missing.ok);
    EXPECT_NE(missing.message.find("'nvram.fd' is missing"), std::string::npos) << missing.message;
    nothing_made();
    fs::rename(backup_nvram + ".away", backup_nvram);

    // Cancelled half-way through the copy (after the check): nothing left.
    RecordingJobContext cancel_restore;
    cancel_restore.cancel_after_bytes(manifest_bytes(manifest) + 1);
    const JobOutcome restore_cancelled = restore_guest(connection_.get(), folder, "", root_ + "/disks", cancel_restore);
    EXPECT_TRUE(restore_cancelled.cancelled) << restore_cancelled.message;
    nothing_made();
    EXPECT_EQ(entries_in(root_ + "/lib/swtpm"), 0u) << "no TPM state left";

    RecordingJobContext restore_job;
    start = Clock::now();
    const JobOutcome restored = restore_guest(connection_.get(), folder, "", root_ + "/disks", restore_job);
    const double restore_seconds = seconds_since(start);
    ASSERT_TRUE(restored.ok) << restored.message;
    EXPECT_EQ(restored.guest, name_);
    std::cout << fmt::format("[measure] restore: {:.1f} s\n", restore_seconds);
    const auto restored_same =
        phyllome::test::run_command({"qemu-img", "compare", disk_, backup_disk}, {}, 120s);
    EXPECT_EQ(restored_same.exit_code, 0) << restored_same.out << restored_same.err;
    EXPECT_EQ(read_all(nvram_path(name_)), read_all(backup_nvram)) << "the NVRAM is the backed-up one";

    // It boots, and swtpm takes the restored state.
    fs::remove(guest_->serial_path());
    DomainPtr domain{virDomainLookupByName(connection_.get(), name_.c_str())};
    ASSERT_TRUE(domain);
    ASSERT_EQ(virDomainCreate(domain.get()), 0) << last_libvirt_error();
    EXPECT_TRUE(guest_->wait_booted(300s)) << guest_->serial_tail();
    if (tpm_) {
        const auto report = guest_->wait_tpm_report(120s);
        ASSERT_TRUE(report);
        EXPECT_TRUE(report->starts_with("/dev/tpm0 present")) << *report;
    }
}

TEST_F(GuestBackupQemu, ShutOffBackupAndExportImportedIntoAnotherRootBoots) {
    boot_guest("phyllome-backup-move");
    const std::string exports = root_ + "/exports";
    fs::create_directories(exports);
    const std::string archive = exports + "/" + name_ + ".tar";

    // Export of the running guest, cancelled half-way: no file, no staging left, still running.
    RecordingJobContext cancel_export;
    cancel_export.cancel_after_bytes(1);
    const JobOutcome export_cancelled = export_guest(connection_.get(), name_, archive, false, cancel_export);
    EXPECT_TRUE(export_cancelled.cancelled) << export_cancelled.message;
    EXPECT_EQ(entries_in(exports), 0u);
    EXPECT_TRUE(runs());

    {
        DomainPtr domain{virDomainLookupByName(connection_.get(), name_.c_str())};
        ASSERT_EQ(virDomainDestroy(domain.get()), 0) << last_libvirt_error();
    }
    const std::string backups = root_ + "/backups";
    fs::create_directories(backups);
    RecordingJobContext cancel_backup;
    cancel_backup.cancel_after_bytes(1);
    const JobOutcome backup_cancelled = backup_guest(connection_.get(), name_, backups, cancel_backup);
    EXPECT_TRUE(backup_cancelled.cancelled) << backup_cancelled.message;
    EXPECT_EQ(entries_in(backups), 0u);

    RecordingJobContext backup_job;
    auto start = Clock::now();
    const JobOutcome backed_up = backup_guest(connection_.get(), name_, backups, backup_job);
    const double backup_seconds = seconds_since(start);
    ASSERT_TRUE(backed_up.ok) << backed_up.message;
    EXPECT_EQ(backup_job.watch_count(), 0) << "a shut-off guest is copied, no libvirt job";
    const BackupManifest manifest = manifest_of(backed_up.message);
    std::cout << fmt::format("[measure] backup of the shut-off guest: {} bytes in {} files, {:.1f} s\n",
                             manifest_bytes(manifest), manifest.files.size(), backup_seconds);

    RecordingJobContext export_job;
    start = Clock::now();
    const JobOutcome exported = export_guest(connection_.get(), name_, archive, false, export_job);
    const double export_seconds = seconds_since(start);
    ASSERT_TRUE(exported.ok) << exported.message;
    EXPECT_EQ(entries_in(exports), 1u) << "the archive alone, no staging or .partial left";
    std::cout << fmt::format("[measure] export: archive of {} bytes, {:.1f} s\n", fs::file_size(archive), export_seconds);

    other_root_ = make_root("backup-b");
    ASSERT_FALSE(other_root_.empty());
    const std::string self = fs::read_symlink("/proc/self/exe").string();
    const auto cancelled_import = phyllome::test::run_command(
        {self, "--import-child", other_root_, archive, std::to_string(manifest_bytes(manifest) / 2), "no"}, {}, 300s);
    EXPECT_NE(cancelled_import.out.find("cancelled=true"), std::string::npos) << cancelled_import.out << cancelled_import.err;
    EXPECT_NE(cancelled_import.out.find("domains 0"), std::string::npos) << cancelled_import.out;
    EXPECT_EQ(entries_in(other_root_ + "/disks"), 0u) << "no staging folder or disk left";

    const auto imported = phyllome::test::run_command(
        {self, "--import-child", other_root_, archive, "0", "boot"}, {}, 600s);
    std::cout << imported.out;
    EXPECT_NE(imported.out.find("outcome ok=true"), std::string::npos) << imported.out << imported.err;
    EXPECT_NE(imported.out.find("serial confined yes"), std::string::npos) << imported.out;
    EXPECT_NE(imported.out.find("booted yes"), std::string::npos) << imported.out;
    EXPECT_NE(imported.out.find("its CD-ROM drives are empty"), std::string::npos) << imported.out;
    if (tpm_) {
        EXPECT_NE(imported.out.find("tpm /dev/tpm0 present"), std::string::npos) << imported.out;
    }
    EXPECT_TRUE(fs::exists(other_root_ + "/disks/" + name_ + ".qcow2"));
    EXPECT_TRUE(fs::exists(archive)) << "import leaves the archive";
}

} // namespace
} // namespace phyllome::guestview

int main(int argc, char** argv) {
    // The embedded QEMU driver needs libvirt's event loop; it runs until the process exits.
    if (virEventRegisterDefaultImpl() != 0)
        return 1;
    std::thread([] {
        for (;;)
            virEventRunDefaultImpl();
    }).detach();
    if (argc == 6 && std::string(argv[1]) == "--import-child")
        return phyllome::guestview::import_child(argv[2], argv[3], std::stoull(argv[4]), std::string(argv[5]) == "boot");
    ::testing::InitGoogleTest(&argc, argv);
    return RUN_ALL_TESTS();
}
