// What libvirt 11.3 does on its own when a guest's local disks are migrated, found with the two
// hosts of guest_move_fixture.hpp: why move_guest makes the destination's disks itself.
#include "guestview/jobs/move_storage.hpp"
#include "tests/guestview/guest_move_fixture.hpp"

namespace phyllome::guestview::move_test {
namespace {

class LibvirtAloneQemu : public GuestMoveQemu {};

// Why move_guest makes the destination's disks itself: what libvirt 11.3 does on its own. It
// makes a missing disk only where a storage pool's folder holds it, and keeps it after a cancel.
TEST_F(LibvirtAloneQemu, LibvirtsOwnDiskCopyNeedsAPoolThereAndLeavesItsFileAfterACancel) {
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

} // namespace
} // namespace phyllome::guestview::move_test
