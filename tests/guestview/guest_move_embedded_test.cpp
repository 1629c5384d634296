// A move from the embedded libvirt driver (qemu:///embed, the shell's own when the host runs no
// libvirtd) to host B of guest_move_fixture.hpp. The embedded driver and its QEMU run in this
// process on a thread inside host A's network namespace; its root is under /var/lib/libvirt,
// which host B sees as a directory of its own, so the guest's files have the same paths on both
// sides but are different files, as on two machines.
#include "tests/guestview/guest_move_fixture.hpp"

namespace phyllome::guestview::move_test {
namespace {

constexpr const char* embed_guest = "phyllome-move-embed";
constexpr const char* embed_root = "/var/lib/libvirt/phyllome-move-embed-test";

std::string replaced(std::string text, const std::string& from, const std::string& to) {
    for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
        text.replace(at, from.size(), to);
    return text;
}

class EmbeddedSourceQemu : public GuestMoveQemu {
protected:
    void TearDown() override {
        Hosts& h = hosts();
        if (h.b_conn)
            if (DomainPtr left{virDomainLookupByName(h.b_conn.get(), embed_guest)}) {
                virDomainDestroy(left.get());
                virDomainUndefineFlags(left.get(), VIR_DOMAIN_UNDEFINE_NVRAM | VIR_DOMAIN_UNDEFINE_TPM);
            }
        virResetLastError();
        std::error_code ec;
        fs::remove_all(embed_root, ec);
        if (h.b)
            fs::remove_all(h.b->lib_dir() + "/phyllome-move-embed-test", ec);
        GuestMoveQemu::TearDown();
    }
};

TEST_F(EmbeddedSourceQemu, MovesAGuestOfTheEmbeddedDriverToASystemLibvirt) {
    Hosts& h = hosts();
    std::error_code ec;
    fs::remove_all(embed_root, ec);
    fs::create_directories(std::string{embed_root} + "/etc", ec);
    fs::create_directories(std::string{embed_root} + "/images", ec);
    std::ofstream(std::string{embed_root} + "/etc/qemu.conf")
        << "user = \"root\"\ngroup = \"root\"\nsecurity_driver = \"none\"\ncgroup_controllers = [ ]\n"
           "namespaces = [ ]\nstdio_handler = \"file\"\nswtpm_user = \"root\"\nswtpm_group = \"root\"\n";
    const std::string disk = std::string{embed_root} + "/images/" + embed_guest + ".qcow2";
    const std::string serial_a = std::string{embed_root} + "/serial.log";
    const auto [made, made_output] = sh(fmt::format("qemu-img create -q -f qcow2 {} 1G", disk));
    ASSERT_EQ(made, 0) << made_output;
    std::string xml = replaced(h.xml, "/var/lib/libvirt/images/" + std::string{guest_name} + ".qcow2", disk);
    xml = replaced(xml, fmt::format("/var/log/libvirt/qemu/{}.serial", guest_name), serial_a);
    xml = replaced(xml, fmt::format("<name>{}</name>", guest_name), fmt::format("<name>{}</name>", embed_guest));
    // B writes the guest's console to the same path, in its own /var/lib/libvirt.
    fs::create_directories(h.b->lib_dir() + "/phyllome-move-embed-test", ec);

    // Everything embedded on one thread in A's network namespace: the driver's threads and its
    // QEMU start from there and inherit it (the event loop it needs runs from the fixture).
    struct Result {
        std::string error;
        JobOutcome outcome;
        double seconds = 0;
    };
    const Result result = in_network_of(h.a->pid(), [&] {
        Result r;
        {
            ConnectionPtr embedded{virConnectOpen(fmt::format("qemu:///embed?root={}", embed_root).c_str())};
            DomainPtr domain{embedded ? virDomainDefineXML(embedded.get(), xml.c_str()) : nullptr};
            if (!domain || start_domain(domain.get()) < 0) {
                r.error = "cannot start the embedded guest: " + last_libvirt_error();
            } else if (!poll_until([&] { return read_file(serial_a).find("phyllome-guest: tpm") != std::string::npos; },
                                   300s)) {
                r.error = "the embedded guest did not boot: " + read_file(serial_a);
            } else {
                testing::RecordingJobContext job;
                const auto started = Clock::now();
                r.outcome = move_guest(embedded.get(), embed_guest, destination, job);
                r.seconds = std::chrono::duration<double>(Clock::now() - started).count();
            }
            if (domain) {
                virDomainDestroy(domain.get());
                virDomainUndefineFlags(domain.get(), VIR_DOMAIN_UNDEFINE_NVRAM | VIR_DOMAIN_UNDEFINE_TPM);
            }
            virResetLastError();
        }
        return r;
    }).get();
    ASSERT_TRUE(result.error.empty()) << result.error;
    std::cerr << fmt::format("embedded -> B in {:.1f} s: {}\n", result.seconds, result.outcome.message);
    ASSERT_TRUE(result.outcome.ok) << result.outcome.message;
    DomainPtr there{virDomainLookupByName(h.b_conn.get(), embed_guest)};
    ASSERT_TRUE(there) << last_libvirt_error();
    EXPECT_EQ(virDomainIsActive(there.get()), 1);
    EXPECT_EQ(virDomainIsPersistent(there.get()), 1);
    LibvirtString b_xml{virDomainGetXMLDesc(there.get(), 0)};
    ASSERT_TRUE(b_xml);
    // Where B keeps its NVRAM: the embedded root's path, made in B's own /var/lib/libvirt.
    const std::string b_xml_text = b_xml.get();
    const auto nvram_at = b_xml_text.find("<nvram");
    std::cerr << "B's NVRAM: "
              << (nvram_at == std::string::npos ? "none" : b_xml_text.substr(nvram_at, b_xml_text.find("</nvram>", nvram_at) - nvram_at))
              << "\n";
    EXPECT_EQ(virDomainReset(there.get(), 0), 0) << last_libvirt_error();
    const std::string serial_b = h.b->lib_dir() + "/phyllome-move-embed-test/serial.log";
    EXPECT_TRUE(poll_until(
        [&] {
            const std::string text = read_file(serial_b);
            return text.find("tpm /dev/tpm0 present") != std::string::npos;
        },
        300s))
        << read_file(serial_b);
}

} // namespace
} // namespace phyllome::guestview::move_test
