// The machine models (Windows, Linux, BSD/unknown): what each OS gets, spec checks, and the XML
// against libvirt's own schema.
#include "guestview/domain_model.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/guestview/installer_iso.hpp"
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

    std::string validate(const std::string& xml, const char* schema = "domain") {
        return testing::virt_xml_validate(dir.path(), xml, schema);
    }

    testing::TempDir dir;
    std::filesystem::path iso = dir.path() / "installer.iso";
    GuestSpec spec;
};

OsProfile windows11() {
    OsProfile os;
    os.id = "win11";
    os.uri = "http://microsoft.com/win/11";
    os.name = "Microsoft Windows 11";
    os.family = OsFamily::Windows;
    os.minimum = {4096, 2, 64};
    os.installer_reboots = 2;
    return os;
}

OsProfile debian() {
    OsProfile os;
    os.id = "debian13";
    os.uri = "http://debian.org/debian/13";
    os.name = "Debian 13";
    os.family = OsFamily::Linux;
    os.virtio_block = os.virtio_net = os.virtio_gpu = os.virtio_input = true;
    return os;
}

OsProfile bsd_without_virtio() {
    OsProfile os = debian();
    os.id = "oldbsd";
    os.name = "Some BSD";
    os.family = OsFamily::Bsd;
    os.virtio_block = os.virtio_net = os.virtio_input = false;
    return os;
}

TEST_F(DomainModelTest, EveryModelValidatesAgainstLibvirtsSchema) {
    if (std::system("command -v virt-xml-validate > /dev/null") != 0)
        GTEST_SKIP() << "virt-xml-validate (libvirt-clients) is missing";
    spec.memory_mb = 2048;
    spec.cpus = 2;
    spec.disk_size_gb = 20;
    OsProfile old_windows = windows11();
    old_windows.uefi = false;
    for (const OsProfile& os : {windows11(), old_windows, debian(), bsd_without_virtio(), OsProfile{}})
        for (bool virtio_win : {false, true})
            for (bool encrypt : {false, true})
                for (GuestNetwork network : {GuestNetwork::User, GuestNetwork::LibvirtDefault})
                    for (bool kvm : {false, true}) {
                        spec.encrypt_disk = encrypt;
                        spec.accel3d = kvm; // one with, one without
                        spec.heads = kvm ? 1 : max_heads;
                        ModelHost host{network, kvm};
                        if (virtio_win)
                            host.virtio_win = iso.string();
                        const MachineModel model = choose_model(os, host);
                        ASSERT_EQ(model.problem, "");
                        EXPECT_EQ(validate(phyllome_domain_xml(spec, model, host, os)), "")
                            << os.id << " encrypt " << encrypt << " kvm " << kvm << " virtio-win " << virtio_win;
                    }
    EXPECT_EQ(validate(phyllome_disk_secret_xml(spec), "secret"), "");
}

TEST_F(DomainModelTest, Windows11GetsSecureBootTpmHyperVAndItsOwnDrivers) {
    spec.memory_mb = 4096;
    spec.cpus = 2;
    spec.disk_size_gb = 64;
    const ModelHost host{GuestNetwork::User, true};
    const MachineModel model = choose_model(windows11(), host);
    const std::string xml = phyllome_domain_xml(spec, model, host, windows11());
    for (const char* part :
         {"<feature enabled='yes' name='secure-boot'/>", "<feature enabled='yes' name='enrolled-keys'/>",
          "<smm state='on'/>", "<tpm model='tpm-crb'>", "<backend type='emulator' version='2.0'/>", "<hyperv mode='custom'>",
          "<timer name='hypervclock' present='yes'/>", "<clock offset='localtime'>", "<target dev='sda' bus='sata'/>",
          "<model type='e1000e'/>", "<input type='tablet' bus='usb'/>",
          "<graphics type='dbus' p2p='yes'>\n      <audio id='1'/>\n    </graphics>", "<sound model='ich9'>",
          "<audio id='1' type='dbus'/>",
          "<model type='virtio' heads='1' primary='yes'/>", "<libosinfo:os id='http://microsoft.com/win/11'/>",
          "<memory unit='MiB'>4096</memory>"})
        EXPECT_THAT(xml, HasSubstr(part));
    EXPECT_THAT(xml, Not(HasSubstr("bus='virtio'/>\n      <boot"))); // no virtio disk without drivers
    EXPECT_THAT(xml, Not(HasSubstr("qemu-vdagent")));
    ASSERT_EQ(model.notes.size(), 1u);
    EXPECT_THAT(model.notes[0], HasSubstr("no virtio-win drivers found"));
}

TEST_F(DomainModelTest, AHeadPerHostOutput) {
    const ModelHost host{GuestNetwork::User, true};
    spec.heads = 3;
    EXPECT_THAT(phyllome_domain_xml(spec, choose_model(debian(), host), host, debian()),
                HasSubstr("<model type='virtio' heads='3' primary='yes'/>"));
    spec.accel3d = true;
    EXPECT_THAT(phyllome_domain_xml(spec, choose_model(debian(), host), host, debian()),
                HasSubstr("<model type='virtio' heads='3' primary='yes'>"));
}

TEST_F(DomainModelTest, WindowsWithVirtioWinDriversGetsVirtioAndTheDriverDisc) {
    ModelHost host{GuestNetwork::User, false};
    host.virtio_win = "/usr/share/virtio-win/virtio-win.iso";
    const MachineModel model = choose_model(windows11(), host);
    const std::string xml = phyllome_domain_xml(spec, model, host, windows11());
    EXPECT_THAT(xml, HasSubstr("<target dev='vda' bus='virtio'/>"));
    EXPECT_THAT(xml, HasSubstr("<model type='virtio'/>"));
    EXPECT_THAT(xml, HasSubstr("<source file='/usr/share/virtio-win/virtio-win.iso'/>"));
    EXPECT_THAT(xml, HasSubstr("<target dev='sdc' bus='sata'/>"));
    // TCG has no Hyper-V enlightenments.
    EXPECT_THAT(xml, Not(HasSubstr("<hyperv")));
    EXPECT_THAT(xml, Not(HasSubstr("hypervclock")));
}

TEST_F(DomainModelTest, WindowsRefusesAHostWithoutSwtpmOrSecureBootFirmware) {
    ModelHost no_tpm{GuestNetwork::User, true};
    no_tpm.tpm = false;
    EXPECT_THAT(choose_model(windows11(), no_tpm).problem, HasSubstr("swtpm"));
    ModelHost no_secure_boot{GuestNetwork::User, true};
    no_secure_boot.secure_boot = false;
    EXPECT_THAT(choose_model(windows11(), no_secure_boot).problem, HasSubstr("Secure Boot"));
}

TEST_F(DomainModelTest, LinuxGetsVirtioEverywhereAClipboardChannelAndATpm) {
    const ModelHost host{GuestNetwork::User, true};
    const MachineModel model = choose_model(debian(), host);
    const std::string xml = phyllome_domain_xml(spec, model, host, debian());
    for (const char* part :
         {"<target dev='vda' bus='virtio'/>", "<model type='virtio'/>", "<input type='tablet' bus='virtio'/>",
          "<input type='keyboard' bus='virtio'/>", "<channel type='qemu-vdagent'>", "<clipboard copypaste='yes'/>",
          "<tpm model='tpm-crb'>", "<feature enabled='no' name='secure-boot'/>", "<clock offset='utc'/>",
          "<boot order='1'/>", "<boot order='2'/>", "<target dev='sdb' bus='sata'/>"})
        EXPECT_THAT(xml, HasSubstr(part));
    EXPECT_THAT(xml, Not(HasSubstr("<smm")));
    EXPECT_TRUE(model.notes.empty());
}

TEST_F(DomainModelTest, UnknownSystemsGetCompatibleDevicesAndSaySo) {
    const ModelHost host{GuestNetwork::User, true};
    const MachineModel model = choose_model(OsProfile{}, host);
    EXPECT_EQ(model.disk_bus, DiskBus::Sata);
    EXPECT_EQ(model.nic, NicModel::E1000e);
    EXPECT_FALSE(model.tpm);
    ASSERT_EQ(model.notes.size(), 1u);
    EXPECT_EQ(model.notes[0], "unknown system, compatible devices chosen");
    const MachineModel bsd = choose_model(bsd_without_virtio(), host);
    EXPECT_EQ(bsd.disk_bus, DiskBus::Sata);
    EXPECT_TRUE(bsd.notes.empty()) << "a recognised system is not 'unknown'";
    OsProfile freebsd = bsd_without_virtio();
    freebsd.virtio_block = freebsd.virtio_net = true;
    EXPECT_EQ(choose_model(freebsd, host).disk_bus, DiskBus::Virtio);
    EXPECT_EQ(choose_model(freebsd, host).nic, NicModel::Virtio);
}

TEST_F(DomainModelTest, BiosOnlySystemsBootWithoutUefi) {
    OsProfile old = bsd_without_virtio();
    old.uefi = false;
    const ModelHost host{GuestNetwork::User, true};
    const std::string xml = phyllome_domain_xml(spec, choose_model(old, host), host, old);
    EXPECT_THAT(xml, Not(HasSubstr("firmware='efi'")));
    EXPECT_THAT(xml, HasSubstr("<os>\n"));
}

TEST_F(DomainModelTest, SizesComeFromTheOsWithDesktopFloorsAndHalfTheHostsMemory) {
    ModelHost host{GuestNetwork::User, true};
    EXPECT_EQ(default_resources(windows11(), host), (OsResources{4096, 2, 64}));
    EXPECT_EQ(default_resources(debian(), host), (OsResources{2048, 2, 20}));
    EXPECT_EQ(default_resources(OsProfile{}, host), (OsResources{4096, 2, 32}));
    OsProfile big = debian();
    big.recommended = {16384, 4, 40};
    host.host_memory_mb = 8192;
    EXPECT_EQ(default_resources(big, host), (OsResources{4096, 4, 40}));
    host.host_memory_mb = 4096; // half is below Windows 11's minimum: the minimum wins
    EXPECT_EQ(default_resources(windows11(), host).memory_mb, 4096);
}

TEST_F(DomainModelTest, NoSecretMeansNoEncryptionElement) {
    spec.secret_uuid.clear();
    const ModelHost host;
    EXPECT_THAT(phyllome_domain_xml(spec, choose_model(debian(), host), host, debian()), Not(HasSubstr("<encryption")));
    spec.secret_uuid = "6f0f3a1e-1111-4222-8333-944455556666";
    EXPECT_THAT(phyllome_domain_xml(spec, choose_model(debian(), host), host, debian()),
                HasSubstr("<secret type='passphrase' uuid='6f0f3a1e-1111-4222-8333-944455556666'/>"));
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
    EXPECT_EQ(guest_name_problem("win-11.x_2"), "") << "a restored or duplicated guest's name too";
    EXPECT_THAT(guest_name_problem("../x"), HasSubstr("letters, digits"));
    EXPECT_THAT(problem([](GuestSpec& s) { s.disk_size_gb = -1; }), HasSubstr("disk size"));
    EXPECT_THAT(problem([](GuestSpec& s) { s.memory_mb = -1; }), HasSubstr("memory"));
    EXPECT_THAT(problem([](GuestSpec& s) { s.memory_mb = 64; }), HasSubstr("memory"));
    EXPECT_THAT(problem([](GuestSpec& s) { s.cpus = -2; }), HasSubstr("CPU"));
    EXPECT_THAT(problem([](GuestSpec& s) { s.heads = 0; }), HasSubstr("head count"));
    EXPECT_THAT(problem([](GuestSpec& s) { s.heads = max_heads + 1; }), HasSubstr("head count"));
    EXPECT_EQ(problem([](GuestSpec& s) { s.cpus = s.memory_mb = s.disk_size_gb = 0; }), "") << "0: the OS's choice";
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
    const ModelHost host;
    EXPECT_THAT(phyllome_domain_xml(spec, choose_model(debian(), host), host, debian()),
                HasSubstr("it&apos;s &lt;here&gt; &amp; there.iso"));
}

} // namespace
} // namespace phyllome::guestview
