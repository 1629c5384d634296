// An encrypted disk (LUKS, the shell's default on qemu:///system) moved between the two hosts of
// guest_move_fixture.hpp: host A's passphrase is a private secret that never leaves it, so the
// copy on B is encrypted under a new secret of B's, and the guest's definition there names it.
#include "guestview/disk_secret.hpp"
#include "tests/guestview/guest_move_fixture.hpp"

namespace phyllome::guestview::move_test {
namespace {

constexpr const char* passphrase = "phyllome-move-test-passphrase";

class EncryptedMoveQemu : public GuestMoveQemu {
protected:
    void TearDown() override {
        GuestMoveQemu::TearDown();
        for (virConnectPtr connection : {hosts().a_conn.get(), hosts().b_conn.get()})
            if (connection != nullptr)
                if (SecretPtr secret = volume_secret(connection, disk_path()))
                    virSecretUndefine(secret.get());
        virResetLastError();
    }
    static std::string disk_path() { return fmt::format("/var/lib/libvirt/images/{}.qcow2", guest_name); }
};

TEST_F(EncryptedMoveQemu, AnEncryptedDiskIsEncryptedAnewThereUnderANewSecret) {
    Hosts& h = hosts();
    const std::string secret_xml = fmt::format(
        "<secret ephemeral='no' private='yes'><description>{}</description><usage type='volume'><volume>{}</volume>"
        "</usage></secret>",
        disk_secret_description(guest_name), disk_path());
    SecretPtr secret{virSecretDefineXML(h.a_conn.get(), secret_xml.c_str(), 0)};
    ASSERT_TRUE(secret) << last_libvirt_error();
    ASSERT_EQ(virSecretSetValue(secret.get(), reinterpret_cast<const unsigned char*>(passphrase),
                                std::strlen(passphrase), 0),
              0);
    char uuid[VIR_UUID_STRING_BUFLEN] = {};
    ASSERT_EQ(virSecretGetUUIDString(secret.get(), uuid), 0);
    const std::string plain_source = fmt::format("<source file='{}'></source>", disk_path());
    ASSERT_NE(h.xml.find(plain_source), std::string::npos) << h.xml;
    std::string xml = h.xml;
    xml.replace(xml.find(plain_source), plain_source.size(),
                fmt::format("<source file='{}'><encryption format='luks'><secret type='passphrase' uuid='{}'/>"
                            "</encryption></source>",
                            disk_path(), uuid));
    ASSERT_NO_FATAL_FAILURE(boot_on_a(
        fmt::format("--object secret,id=s0,data={} -o encrypt.format=luks,encrypt.key-secret=s0,encrypt.iter-time=10",
                    passphrase),
        xml));

    testing::RecordingJobContext job;
    const auto started = Clock::now();
    const JobOutcome outcome = move(job);
    std::cerr << fmt::format("encrypted move in {:.1f} s: {}\n",
                             std::chrono::duration<double>(Clock::now() - started).count(), outcome.message);
    ASSERT_TRUE(outcome.ok) << outcome.message;

    // B has its own secret for the disk, which its definition names, and the file is LUKS.
    SecretPtr there = volume_secret(h.b_conn.get(), disk_path());
    ASSERT_TRUE(there) << "B keeps no secret for " << disk_path();
    char new_uuid[VIR_UUID_STRING_BUFLEN] = {};
    ASSERT_EQ(virSecretGetUUIDString(there.get(), new_uuid), 0);
    EXPECT_STRNE(new_uuid, uuid);
    EXPECT_TRUE(is_shell_disk_secret(there.get(), guest_name));
    DomainPtr moved{virDomainLookupByName(h.b_conn.get(), guest_name)};
    ASSERT_TRUE(moved) << last_libvirt_error();
    for (unsigned flags : {0u, unsigned{VIR_DOMAIN_XML_INACTIVE}}) {
        LibvirtString definition{virDomainGetXMLDesc(moved.get(), flags)};
        ASSERT_TRUE(definition);
        EXPECT_THAT(definition.get(), HasSubstr(new_uuid));
        EXPECT_THAT(definition.get(), ::testing::Not(HasSubstr(uuid)));
    }
    const std::string disk_b = h.b->lib_dir() + "/images/" + guest_name + ".qcow2";
    std::error_code ec;
    const auto [info_status, info] = sh("qemu-img info -U " + disk_b);
    EXPECT_THAT(info, HasSubstr("encrypted: yes"));

    // Its data arrived: read through B's passphrase, which B's secret driver keeps in a file.
    const fs::path kept = fs::path(h.b->lib_dir()).parent_path() / "etc/secrets" / (std::string{new_uuid} + ".base64");
    if (fs::exists(kept)) {
        const std::string key = (h.work / "b.key").string();
        const auto [same, compare] = sh(fmt::format(
            "base64 -d {} > {} && qemu-img compare -U --object secret,id=s0,file={} --image-opts "
            "driver=raw,file.filename={} driver=qcow2,encrypt.key-secret=s0,file.filename={}",
            kept.string(), key, key, (h.work / "disk.raw").string(), disk_b));
        EXPECT_EQ(same, 0) << compare;
        fs::remove(key, ec);
    } else {
        std::cerr << "B keeps its secrets encrypted (" << kept << " is missing): the data was not compared\n";
    }

    // QEMU on B opens the disk anew with B's secret: the guest starts there from its definition.
    ASSERT_EQ(virDomainDestroy(moved.get()), 0) << last_libvirt_error();
    fs::remove(serial(*h.b), ec);
    ASSERT_EQ(start_domain(moved.get()), 0) << last_libvirt_error();
    EXPECT_TRUE(poll_until([&] { return read_file(serial(*h.b)).find("tpm /dev/tpm0 present") != std::string::npos; },
                           300s))
        << read_file(serial(*h.b));
}

} // namespace
} // namespace phyllome::guestview::move_test
