// The Phyllome machine model: spec checks, and the XML against libvirt's own schema.
#include "guestview/domain_model.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/guestview/test_support.hpp"

namespace phyllome::guestview {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class DomainModelTest : public ::testing::Test {
protected:
    void SetUp() override {
        std::ofstream{iso} << "not really an ISO";
        spec.name = "fern";
        spec.iso_path = iso.string();
        spec.disk_dir = dir.path().string();
        spec.secret_uuid = "6f0f3a1e-1111-4222-8333-944455556666";
    }

    // virt-xml-validate from libvirt-clients checks against the installed domain.rng.
    std::string validate(const std::string& xml, const char* schema = "domain") {
        const auto file = dir.path() / "domain.xml";
        std::ofstream{file} << xml;
        const auto log = dir.path() / "validate.log";
        const std::string command =
            fmt::format("virt-xml-validate '{}' {} > '{}' 2>&1", file.string(), schema, log.string());
        const int status = std::system(command.c_str());
        std::ifstream in{log};
        std::string output{std::istreambuf_iterator<char>{in}, {}};
        return status == 0 ? std::string{} : output + "\n" + xml;
    }

    testing::TempDir dir;
    std::filesystem::path iso = dir.path() / "installer.iso";
    GuestSpec spec;
};

TEST_F(DomainModelTest, EveryCombinationValidatesAgainstLibvirtsSchema) {
    if (std::system("command -v virt-xml-validate > /dev/null") != 0)
        GTEST_SKIP() << "virt-xml-validate (libvirt-clients) is missing";
    for (bool encrypt : {false, true})
        for (bool accel3d : {false, true})
            for (GuestNetwork network : {GuestNetwork::User, GuestNetwork::LibvirtDefault})
                for (bool kvm : {false, true}) {
                    spec.encrypt_disk = encrypt;
                    spec.accel3d = accel3d;
                    EXPECT_EQ(validate(phyllome_domain_xml(spec, {network, kvm})), "")
                        << "encrypt " << encrypt << " accel3d " << accel3d << " kvm " << kvm;
                }
    EXPECT_EQ(validate(phyllome_disk_secret_xml(spec), "secret"), "");
}

TEST_F(DomainModelTest, HasTheModelsDevices) {
    spec.encrypt_disk = true;
    spec.accel3d = true;
    const std::string xml = phyllome_domain_xml(spec, {GuestNetwork::User, false});
    for (const char* part :
         {"<domain type='qemu'>", "machine='q35'", "<os firmware='efi'>", "<feature enabled='no' name='secure-boot'/>",
          "type='qcow2'", "<encryption format='luks'>", "uuid='6f0f3a1e-1111-4222-8333-944455556666'",
          "<target dev='vda' bus='virtio'/>", "<boot order='2'/>", "device='cdrom'", "<target dev='sda' bus='sata'/>",
          "<boot order='1'/>", "<interface type='user'>", "<model type='virtio'/>", "model='qemu-xhci'",
          "<input type='tablet' bus='usb'/>", "<input type='keyboard' bus='virtio'/>", "<rng model='virtio'>",
          "<graphics type='dbus' p2p='yes'>", "<gl enable='yes'/>", "<acceleration accel3d='yes'/>",
          "<model type='virtio' heads='1' primary='yes'>", "<memory unit='MiB'>4096</memory>", "<vcpu>2</vcpu>"})
        EXPECT_THAT(xml, HasSubstr(part));
    EXPECT_THAT(xml, HasSubstr(spec.iso_path));
    EXPECT_THAT(xml, HasSubstr(dir.path().string() + "/fern.qcow2"));
}

TEST_F(DomainModelTest, PlainDiskNoGlAndLibvirtsNetwork) {
    spec.encrypt_disk = false;
    const std::string xml = phyllome_domain_xml(spec, {GuestNetwork::LibvirtDefault, true});
    EXPECT_THAT(xml, Not(HasSubstr("<encryption")));
    EXPECT_THAT(xml, Not(HasSubstr("accel3d")));
    EXPECT_THAT(xml, Not(HasSubstr("<gl")));
    EXPECT_THAT(xml, HasSubstr("<graphics type='dbus' p2p='yes'/>"));
    EXPECT_THAT(xml, HasSubstr("<source network='default'/>"));
    EXPECT_THAT(xml, HasSubstr("<domain type='kvm'>"));
    EXPECT_THAT(xml, HasSubstr("host-passthrough"));
}

TEST_F(DomainModelTest, NoSecretMeansNoEncryptionElement) {
    spec.secret_uuid.clear();
    EXPECT_THAT(phyllome_domain_xml(spec), Not(HasSubstr("<encryption")));
}

TEST_F(DomainModelTest, SpecProblemsAreNamed) {
    EXPECT_EQ(guest_spec_problem(spec), "");
    auto problem = [&](auto change) {
        GuestSpec bad = spec;
        change(bad);
        return guest_spec_problem(bad);
    };
    EXPECT_THAT(problem([](GuestSpec& s) { s.name = ""; }), HasSubstr("name"));
    EXPECT_THAT(problem([](GuestSpec& s) { s.name = "my guest"; }), HasSubstr("letters, digits"));
    EXPECT_THAT(problem([](GuestSpec& s) { s.name = "../etc"; }), HasSubstr("letters, digits"));
    EXPECT_THAT(problem([](GuestSpec& s) { s.name = "-x"; }), HasSubstr("not start"));
    EXPECT_THAT(problem([](GuestSpec& s) { s.disk_size_gb = 0; }), HasSubstr("disk size"));
    EXPECT_THAT(problem([](GuestSpec& s) { s.memory_mb = -1; }), HasSubstr("memory"));
    EXPECT_THAT(problem([](GuestSpec& s) { s.cpus = 0; }), HasSubstr("CPU"));
    EXPECT_THAT(problem([](GuestSpec& s) { s.iso_path += ".missing"; }), HasSubstr("does not exist"));
    EXPECT_THAT(problem([](GuestSpec& s) { s.iso_path = "installer.iso"; }), HasSubstr("absolute"));
    EXPECT_THAT(problem([](GuestSpec& s) { s.disk_dir += "/nowhere"; }), HasSubstr("does not exist"));
    std::ofstream{dir.path() / "fern.qcow2"} << "";
    EXPECT_THAT(guest_spec_problem(spec), HasSubstr("never overwritten"));
}

TEST_F(DomainModelTest, NamesAndPathsAreEscaped) {
    const auto odd = dir.path() / "it's <here> & there.iso";
    std::ofstream{odd} << "";
    spec.iso_path = odd.string();
    EXPECT_EQ(guest_spec_problem(spec), "");
    EXPECT_THAT(phyllome_domain_xml(spec), HasSubstr("it&apos;s &lt;here&gt; &amp; there.iso"));
}

} // namespace
} // namespace phyllome::guestview
