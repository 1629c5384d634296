// Moving a guest to new hardware (issue 17) between two real hosts on this machine
// (guest_move_fixture.hpp): refusals, a cancel half-way, the move itself.
// Needs root; skips without libvirtd, QEMU, OVMF, swtpm, qemu-img, ip, nsenter or the guest.
#include "tests/guestview/guest_move_fixture.hpp"

namespace phyllome::guestview::move_test {
namespace {

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
        SCOPED_TRACE("this host itself");
        testing::RecordingJobContext job;
        const JobOutcome outcome = move(job, h.a->uri());
        EXPECT_FALSE(outcome.ok);
        EXPECT_THAT(outcome.message, HasSubstr("is this host"));
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
} // namespace phyllome::guestview::move_test
