// The backup manifest without QEMU: its text both ways, what it refuses, SHA-256 through GLib,
// and the check of a backup folder (a flipped byte, a missing or truncated file); the restored
// domain XML; where libvirt keeps NVRAM and TPM state per URI.
#include <gtest/gtest.h>

#include <stdlib.h>
#include <unistd.h>

#include <cstdlib>

#include <filesystem>
#include <fstream>
#include <string>

#include "guestview/jobs/backup_manifest.hpp"
#include "guestview/jobs/guest_files.hpp"
#include "guestview/jobs/guest_restore.hpp"
#include "guestview/jobs/import_policy.hpp"
#include "guestview/jobs/push_backup.hpp"
#include "guestview/jobs/restore_xml.hpp"
#include "guestview/libvirt_handles.hpp"
#include "tests/guestview/recording_job_context.hpp"

namespace phyllome::guestview {
namespace {

namespace fs = std::filesystem;

const std::string abc_sha256 = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

class TempDir {
public:
    TempDir() {
        std::string pattern = (fs::temp_directory_path() / "phyllome-manifest-XXXXXX").string();
        path_ = ::mkdtemp(pattern.data()) ? pattern : "";
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path_, ec);
    }
    const std::string& path() const { return path_; }

private:
    std::string path_;
};

void write(const std::string& path, const std::string& data) {
    fs::create_directories(fs::path(path).parent_path());
    std::ofstream(path, std::ios::binary) << data;
}

std::string fmt_domain(const std::string& secret_uuid) {
    return "<domain type='test'><name>locked</name><memory>65536</memory><os><type>hvm</type></os><devices>"
           "<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='/elsewhere/locked.qcow2'>"
           "<encryption format='luks'><secret type='passphrase' uuid='" +
           secret_uuid + "'/></encryption></source><target dev='vda' bus='virtio'/></disk></devices></domain>";
}

BackupManifest sample() {
    BackupManifest m;
    m.guest = "fedora";
    m.created = "20261205-031400";
    m.files.push_back({BackupFileKind::Domain, abc_sha256, 3, "domain.xml", {}, {}, {}});
    m.files.push_back({BackupFileKind::Disk, abc_sha256, 3, "disk-vda.qcow2", "vda", "qcow2", {}});
    m.files.push_back({BackupFileKind::Disk, abc_sha256, 3, "disk-vdb.qcow2", "vdb", "qcow2",
                       "0b5c7c3e-8a53-4a4f-9a0a-1d7c2e3f4a5b"});
    m.files.push_back({BackupFileKind::Nvram, abc_sha256, 3, "nvram.fd", {}, {}, {}});
    m.files.push_back({BackupFileKind::Tpm, abc_sha256, 3, "tpm/tpm2/tpm2-00.permall", {}, {}, {}});
    return m;
}

TEST(BackupManifest, RoundTrips) {
    const BackupManifest m = sample();
    std::string error;
    const auto parsed = parse_manifest(format_manifest(m), error);
    ASSERT_TRUE(parsed) << error;
    EXPECT_EQ(parsed->guest, "fedora");
    EXPECT_EQ(parsed->created, "20261205-031400");
    ASSERT_EQ(parsed->files.size(), m.files.size());
    EXPECT_EQ(parsed->files[2].secret_uuid, "0b5c7c3e-8a53-4a4f-9a0a-1d7c2e3f4a5b");
    EXPECT_EQ(parsed->files[1].secret_uuid, "");
    EXPECT_EQ(parsed->files[4].name, "tpm/tpm2/tpm2-00.permall");
    EXPECT_EQ(parsed->domain_file()->name, "domain.xml");
    EXPECT_EQ(manifest_bytes(*parsed), 15u);
}

TEST(BackupManifest, RefusesWhatIsNoManifest) {
    std::string error;
    EXPECT_FALSE(parse_manifest("", error));
    EXPECT_FALSE(parse_manifest("#!/bin/sh\nrm -rf /\n", error));
    EXPECT_NE(error.find("not a Phyllome backup manifest"), std::string::npos) << error;

    const std::string head = "phyllome-backup 1\nguest g\n";
    const std::string domain = "file domain " + abc_sha256 + " 3 domain.xml\n";
    EXPECT_TRUE(parse_manifest(head + domain, error)) << error;
    // Names that would leave the folder, checksums that are none, a second domain, none at all.
    for (const std::string& bad : {"file nvram " + abc_sha256 + " 3 ../../etc/passwd\n",
                                  "file nvram " + abc_sha256 + " 3 /etc/passwd\n",
                                  "file nvram " + abc_sha256 + " 3 tpm/../../x\n",
                                  "file nvram " + abc_sha256.substr(1) + " 3 nvram.fd\n",
                                  "file nvram " + abc_sha256 + " -3 nvram.fd\n",
                                  "file disk " + abc_sha256 + " 3 disk-vda.qcow2 vda\n",
                                  "file domain " + abc_sha256 + " 3 other.xml\n",
                                  "file nvram " + abc_sha256 + " 3 domain.xml\n",
                                  "file socket " + abc_sha256 + " 3 s\n", std::string("rm -rf /\n")}) {
        EXPECT_FALSE(parse_manifest(head + domain + bad, error)) << bad;
        EXPECT_NE(error.find("line 4"), std::string::npos) << error;
    }
    EXPECT_FALSE(parse_manifest(head, error));
    EXPECT_NE(error.find("exactly one domain"), std::string::npos) << error;
    EXPECT_FALSE(parse_manifest("phyllome-backup 1\n" + domain, error));
    EXPECT_NE(error.find("no guest name"), std::string::npos) << error;
}

TEST(BackupManifest, HashesWithSha256) {
    TempDir dir;
    write(dir.path() + "/abc", "abc");
    const FileDigest digest = sha256_file(dir.path() + "/abc");
    ASSERT_TRUE(digest.ok) << digest.error;
    EXPECT_EQ(digest.sha256, abc_sha256);
    EXPECT_EQ(digest.size, 3u);
    EXPECT_FALSE(sha256_file(dir.path() + "/none").ok);
}

TEST(BackupManifest, VerifyFindsTheDamagedFile) {
    TempDir dir;
    const BackupManifest m = sample();
    for (const BackupFile& file : m.files)
        write(dir.path() + "/" + file.name, "abc");
    VerifyResult ok = verify_backup_files(dir.path(), m);
    EXPECT_TRUE(ok.ok) << ok.error;

    write(dir.path() + "/disk-vdb.qcow2", "abd"); // one byte flipped
    VerifyResult flipped = verify_backup_files(dir.path(), m);
    EXPECT_FALSE(flipped.ok);
    EXPECT_NE(flipped.error.find("'disk-vdb.qcow2' does not match its SHA-256"), std::string::npos) << flipped.error;

    write(dir.path() + "/disk-vdb.qcow2", "abc");
    fs::remove(dir.path() + "/tpm/tpm2/tpm2-00.permall");
    VerifyResult missing = verify_backup_files(dir.path(), m);
    EXPECT_FALSE(missing.ok);
    EXPECT_NE(missing.error.find("'tpm/tpm2/tpm2-00.permall' is missing"), std::string::npos) << missing.error;

    write(dir.path() + "/tpm/tpm2/tpm2-00.permall", "ab");
    VerifyResult truncated = verify_backup_files(dir.path(), m);
    EXPECT_FALSE(truncated.ok);
    EXPECT_NE(truncated.error.find("has 2 bytes, the manifest says 3"), std::string::npos) << truncated.error;

    write(dir.path() + "/tpm/tpm2/tpm2-00.permall", "abc");
    VerifyResult stopped = verify_backup_files(dir.path(), m, [](std::uint64_t) { return false; });
    EXPECT_TRUE(stopped.cancelled);
    EXPECT_FALSE(stopped.ok);
}

TEST(RestoreXml, RewritesNameUuidDisksNvramAndTpmSource) {
    const std::string xml = R"(<domain type='qemu'><name>old</name><uuid>11111111-1111-4111-8111-111111111111</uuid>
<metadata><phyllome:identity xmlns:phyllome="https://phyllo.me/xmlns/shell/1.0" slot="2"/></metadata>
<os><type machine='q35'>hvm</type><loader readonly='yes' type='pflash'>/usr/share/OVMF/OVMF_CODE_4M.fd</loader>
<nvram template='/usr/share/OVMF/OVMF_VARS_4M.fd'>/old/host/nvram/old_VARS.fd</nvram></os>
<devices><disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='/old/old.img'/>
<backingStore/><target dev='vda' bus='virtio'/></disk>
<disk type='file' device='cdrom'><source file='/isos/x.iso'/><target dev='sda' bus='sata'/></disk>
<tpm model='tpm-crb'><backend type='emulator' version='2.0'><source type='dir' path='/old/tpm'/></backend></tpm>
</devices></domain>)";
    RestoredPlaces places{"new", "22222222-2222-4222-8222-222222222222", {{"vda", {"/disks/new.qcow2", "qcow2"}}},
                          "/root/lib/qemu/nvram/new_VARS.fd"};
    std::string error;
    const std::string out = restored_domain_xml(xml, places, error);
    ASSERT_FALSE(out.empty()) << error;
    const auto files = guest_files(out, error);
    ASSERT_TRUE(files) << error;
    EXPECT_EQ(files->name, "new");
    EXPECT_EQ(files->uuid, "22222222-2222-4222-8222-222222222222");
    ASSERT_EQ(files->disks.size(), 1u);
    EXPECT_EQ(files->disks[0].path, "/disks/new.qcow2");
    EXPECT_EQ(files->disks[0].format, "qcow2");
    EXPECT_EQ(files->nvram, "/root/lib/qemu/nvram/new_VARS.fd");
    EXPECT_TRUE(files->tpm_emulator);
    EXPECT_EQ(files->tpm_source_dir, "");
    EXPECT_EQ(files->other_devs, std::vector<std::string>{"sda"});
    EXPECT_NE(out.find("/isos/x.iso"), std::string::npos) << "the CD-ROM stays";
    EXPECT_NE(out.find("slot=\"2\""), std::string::npos) << "the shell's metadata travels";
    EXPECT_NE(out.find("OVMF_VARS_4M.fd"), std::string::npos) << "the NVRAM template stays";
    EXPECT_EQ(out.find("backingStore"), std::string::npos);

    // Another distribution's firmware path: libvirt picks this host's by the features.
    RestoredPlaces elsewhere = places;
    elsewhere.reselect_firmware = true;
    const std::string efi = std::string(xml).replace(xml.find("<os>"), 4, "<os firmware='efi'>");
    const std::string moved = restored_domain_xml(efi, elsewhere, error);
    ASSERT_FALSE(moved.empty()) << error;
    EXPECT_EQ(moved.find("OVMF_CODE_4M.fd"), std::string::npos) << moved;
    EXPECT_EQ(moved.find("OVMF_VARS_4M.fd"), std::string::npos) << moved;
    EXPECT_NE(moved.find("/root/lib/qemu/nvram/new_VARS.fd"), std::string::npos) << moved;
    EXPECT_NE(moved.find("readonly"), std::string::npos) << "the loader's attributes stay: " << moved;

    // An installer ISO that is not on this host: the drive stays, empty.
    RestoredPlaces no_iso = places;
    no_iso.eject = {"sda"};
    const std::string ejected = restored_domain_xml(xml, no_iso, error);
    ASSERT_FALSE(ejected.empty()) << error;
    EXPECT_EQ(ejected.find("/isos/x.iso"), std::string::npos) << ejected;
    EXPECT_NE(ejected.find("dev=\"sda\""), std::string::npos) << ejected;
    EXPECT_EQ(guest_files(xml, error)->media.size(), 1u);

    RestoredPlaces lacking{"new", "22222222-2222-4222-8222-222222222222", {}, {}};
    EXPECT_TRUE(restored_domain_xml(xml, lacking, error).empty());
    EXPECT_NE(error.find("disk vda"), std::string::npos) << error;
}

TEST(GuestFiles, StateDirsPerUri) {
    const auto embed = state_dirs_for_uri("qemu:///embed?root=/var/tmp/r%20oot");
    ASSERT_TRUE(embed);
    EXPECT_EQ(embed->nvram, "/var/tmp/r oot/lib/qemu/nvram");
    EXPECT_EQ(embed->swtpm, "/var/tmp/r oot/lib/swtpm");
    const auto system = state_dirs_for_uri("qemu:///system");
    ASSERT_TRUE(system);
    EXPECT_EQ(system->swtpm, "/var/lib/libvirt/swtpm");
    EXPECT_EQ(tpm_state_dir(*system, "u-u-i-d"), "/var/lib/libvirt/swtpm/u-u-i-d");
    EXPECT_EQ(tpm_state_dir(*system, "u-1", "/srv/tpm/x"), "/srv/tpm/x") << "an explicit <source> wins";
    EXPECT_EQ(tpm_state_dir(*system, ""), "") << "no UUID: never the whole swtpm folder";
    EXPECT_EQ(tpm_state_dir(*embed, "u-1"), "/var/tmp/r oot/lib/swtpm/u-1");
    EXPECT_FALSE(state_dirs_for_uri("qemu+ssh://host/system")) << "remote: not on this machine";
    EXPECT_FALSE(state_dirs_for_uri("qemu+tcp://host/system"));
    EXPECT_FALSE(state_dirs_for_uri("qemu+ssh://user@host/system"));
    EXPECT_TRUE(state_dirs_for_uri("qemu:///session"));
    ASSERT_TRUE(state_dirs_for_uri("qemu+unix:///system?socket=/x/sock"));
    EXPECT_EQ(state_dirs_for_uri("qemu+unix:///system?socket=/x/sock")->nvram, "/var/lib/libvirt/qemu/nvram");
    EXPECT_EQ(tpm_state_dir(*state_dirs_for_uri("qemu+unix:///system?socket=/tmp/s"), "u-1"), "/var/lib/libvirt/swtpm/u-1");
}


TEST(PushBackup, EncryptedDisksStayEncryptedAndOthersAreLeftOut) {
    const std::string xml = push_backup_xml({{{"vda", "/d/a.qcow2", "qcow2", ""}, "/b/disk-vda.qcow2"},
                                             {{"vdb", "/d/b.qcow2", "qcow2", "0b5c7c3e-8a53-4a4f-9a0a-1d7c2e3f4a5b"},
                                              "/b/disk-vdb.qcow2"}},
                                            {"sda"});
    EXPECT_NE(xml.find("<domainbackup mode='push'>"), std::string::npos) << xml;
    EXPECT_NE(xml.find("<target file='/b/disk-vda.qcow2'/>"), std::string::npos) << xml;
    EXPECT_NE(xml.find("<secret type='passphrase' uuid='0b5c7c3e-8a53-4a4f-9a0a-1d7c2e3f4a5b'/>"), std::string::npos)
        << xml;
    EXPECT_NE(xml.find("<disk name='sda' backup='no'/>"), std::string::npos) << xml;
    EXPECT_EQ(xml.find("<encryption", xml.find("disk-vda")), xml.find("<encryption")) << "only vdb is encrypted";
}

// libvirt's test driver defines the guest: an encrypted disk whose secret this host lacks is
// restored (still encrypted) and the message says what it needs; a damaged one defines nothing.
TEST(Restore, AnEncryptedDiskWithoutItsSecretIsNamedAndADamagedBackupDefinesNothing) {
    TempDir backup, disks;
    const std::string uuid = "0b5c7c3e-8a53-4a4f-9a0a-1d7c2e3f4a5b";
    const std::string domain = fmt_domain(uuid);
    write(backup.path() + "/domain.xml", domain);
    write(backup.path() + "/disk-vda.qcow2", "LUKS qcow2 stand-in");
    BackupManifest m;
    m.guest = "locked";
    m.created = "20261205-031400";
    for (const auto& [kind, name] : {std::pair{BackupFileKind::Domain, "domain.xml"}, {BackupFileKind::Disk, "disk-vda.qcow2"}}) {
        const FileDigest digest = sha256_file(backup.path() + "/" + name);
        m.files.push_back({kind, digest.sha256, digest.size, name, kind == BackupFileKind::Disk ? "vda" : "",
                           kind == BackupFileKind::Disk ? "qcow2" : "", kind == BackupFileKind::Disk ? uuid : ""});
    }
    write(backup.path() + "/manifest", format_manifest(m));
    ConnectionPtr connection{virConnectOpen("test:///default")};
    ASSERT_TRUE(connection) << last_libvirt_error();

    write(backup.path() + "/disk-vda.qcow2", "LUKS qcow2 stand-iN");
    testing::RecordingJobContext damaged_job;
    const JobOutcome damaged = restore_guest(connection.get(), backup.path(), "", disks.path(), damaged_job);
    EXPECT_FALSE(damaged.ok);
    EXPECT_NE(damaged.message.find("'disk-vda.qcow2' does not match"), std::string::npos) << damaged.message;
    EXPECT_FALSE(DomainPtr(virDomainLookupByName(connection.get(), "locked")));
    virResetLastError();
    EXPECT_TRUE(fs::is_empty(disks.path()));

    write(backup.path() + "/disk-vda.qcow2", "LUKS qcow2 stand-in");
    testing::RecordingJobContext job;
    const JobOutcome restored = restore_guest(connection.get(), backup.path(), "", disks.path(), job);
    ASSERT_TRUE(restored.ok) << restored.message;
    EXPECT_NE(restored.message.find("disk vda is encrypted"), std::string::npos) << restored.message;
    EXPECT_NE(restored.message.find(uuid), std::string::npos) << restored.message;
    DomainPtr defined{virDomainLookupByName(connection.get(), "locked")};
    ASSERT_TRUE(defined);
    LibvirtString xml{virDomainGetXMLDesc(defined.get(), VIR_DOMAIN_XML_INACTIVE)};
    EXPECT_NE(std::string(xml.get()).find(disks.path() + "/locked.qcow2"), std::string::npos) << xml.get();
    EXPECT_NE(std::string(xml.get()).find(uuid), std::string::npos) << "still encrypted with its secret";
    virDomainUndefine(defined.get());
}


TEST(ImportPolicy, RefusesHostDevicesAndConfinesHostPaths) {
    const std::string head = "<domain type='kvm' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'><name>x</name>";
    EXPECT_NE(foreign_domain_problem(head + "<qemu:commandline><qemu:arg value='-x'/></qemu:commandline></domain>")
                  .find("qemu:commandline"),
              std::string::npos);
    EXPECT_NE(foreign_domain_problem(head + "<devices><hostdev mode='subsystem' type='pci'/></devices></domain>").find("hostdev"),
              std::string::npos);
    EXPECT_NE(foreign_domain_problem(head + "<devices><disk type='block' device='disk'><source dev='/dev/sda'/></disk>"
                                            "</devices></domain>")
                  .find("'block'"),
              std::string::npos);
    const std::string fine = head + R"(<devices>
<disk type='file' device='disk'><source file='/d/x.qcow2'/><target dev='vda'/></disk>
<disk type='file' device='cdrom'><source file='/home/u/.ssh/id_ed25519'/><target dev='sda'/></disk>
<serial type='file'><source path='/home/u/.bashrc'/><target port='0'/><log file='/home/u/.profile'/></serial>
<console type='file'><source path='/home/u/.bashrc'/><target type='serial'/></console>
<channel type='dev'><source path='/dev/sda'/><target type='virtio'/></channel>
</devices></domain>)";
    EXPECT_EQ(foreign_domain_problem(fine), "");
    const std::string confined = confined_domain_xml(fine, "/disks", "x");
    for (const char* gone : {".ssh", ".bashrc", ".profile", "/dev/sda"})
        EXPECT_EQ(confined.find(gone), std::string::npos) << gone << " in " << confined;
    EXPECT_NE(confined.find("/d/x.qcow2"), std::string::npos) << confined;
    EXPECT_NE(confined.find("/disks/x-0.log"), std::string::npos) << confined;
    EXPECT_NE(confined.find("/disks/x-1.log"), std::string::npos) << confined;
    // The console that mirrored serial0 still does.
    EXPECT_NE(confined.find("/disks/x-0.log", confined.find("<console")), std::string::npos) << confined;
}


TEST(GuestFiles, FindsTheBackingFileOfAQcow2Overlay) {
    TempDir dir;
    // A version 3 qcow2 header naming "base.qcow2" (10 bytes) at offset 0x70.
    std::string header(0x80, '\0');
    header.replace(0, 4, "QFI\xfb");
    header[7] = 3;
    header[15] = 0x70;
    header[19] = 10;
    header.replace(0x70, 10, "base.qcow2");
    write(dir.path() + "/overlay.qcow2", header);
    EXPECT_EQ(qcow2_backing_file(dir.path() + "/overlay.qcow2"), "base.qcow2");
    header[15] = 0;
    write(dir.path() + "/standalone.qcow2", header);
    EXPECT_EQ(qcow2_backing_file(dir.path() + "/standalone.qcow2"), "");
    write(dir.path() + "/raw.img", std::string(512, 'x'));
    EXPECT_EQ(qcow2_backing_file(dir.path() + "/raw.img"), "");
    // And what qemu-img itself writes.
    if (::access("/usr/bin/qemu-img", X_OK) == 0) {
        const std::string base = dir.path() + "/real-base.qcow2", overlay = dir.path() + "/real-overlay.qcow2";
        ASSERT_EQ(std::system(("qemu-img create -q -f qcow2 " + base + " 64M").c_str()), 0);
        ASSERT_EQ(std::system(("qemu-img create -q -f qcow2 -b " + base + " -F qcow2 " + overlay).c_str()), 0);
        EXPECT_EQ(qcow2_backing_file(overlay), base);
        EXPECT_EQ(qcow2_backing_file(base), "");
    }
}

} // namespace
} // namespace phyllome::guestview
