// USB devices given to guests (issue 18): the hostdev XML (checked against libvirt's own schema),
// what a live domain XML says, the remembered choices in the metadata, the protocol's refusal of
// bad USB fields, and set_usb_choices against libvirt's test driver.
#include "guestview/usb_hostdev_xml.hpp"
#include "guestview/usb_hostdev_errors.hpp"

#include <sys/wait.h>

#include <cstdlib>
#include <fstream>

#include <fmt/format.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <libvirt/libvirt.h>

#include "guestview/agent_protocol.hpp"
#include "guestview/inventory.hpp"
#include "guestview/libvirt_handles.hpp"
#include "tests/guestview/test_support.hpp"

namespace phyllome::guestview {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::pump_until;
using testing::TempDir;

const UsbHostdev sandisk{0x0781, 0x5581, 1, 5};

TEST(UsbHostdevXml, NamesVendorProductAndAddress) {
    EXPECT_EQ(usb_hostdev_xml(sandisk),
              "<hostdev mode='subsystem' type='usb' managed='yes'><source><vendor id='0x0781'/>"
              "<product id='0x5581'/><address bus='1' device='5'/></source></hostdev>");
    EXPECT_THAT(usb_hostdev_xml({0xffff, 0x0001, 255, 127}), HasSubstr("<vendor id='0xffff'/><product id='0x0001'/>"));
    EXPECT_EQ(describe_hostdev(sandisk), "USB device 0781:5581 (bus 1 device 5)");
}

TEST(UsbHostdevXml, IsValidForLibvirtsSchema) {
    if (std::system("command -v virt-xml-validate >/dev/null 2>&1") != 0)
        GTEST_SKIP() << "virt-xml-validate (libvirt-clients) is missing";
    // The schema checks whole documents: the hostdev goes in the smallest valid domain.
    TempDir dir;
    const auto file = dir.path() / "domain.xml";
    std::ofstream{file} << fmt::format("<domain type='qemu'><name>usb</name><memory>65536</memory><os><type>hvm</type>"
                                       "</os><devices>{}</devices></domain>",
                                       usb_hostdev_xml(sandisk));
    const std::string command = fmt::format("virt-xml-validate '{}' domain >'{}' 2>&1", file.string(),
                                            (dir.path() / "out").string());
    const int status = std::system(command.c_str());
    std::ifstream out{dir.path() / "out"};
    const std::string output{std::istreambuf_iterator<char>{out}, {}};
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0) << output;
}

// The live XML as libvirt 11 writes it after two identical sticks were given, plus things that
// are not USB hostdevs.
constexpr std::string_view live_xml = R"(<domain type='kvm' id='3'>
  <name>win11</name>
  <devices>
    <controller type='usb' index='0' model='qemu-xhci' ports='15'><alias name='usb'/></controller>
    <hostdev mode='subsystem' type='usb' managed='yes'>
      <source><vendor id='0x0781'/><product id='0x5581'/><address bus='1' device='5'/></source>
      <alias name='hostdev0'/>
      <address type='usb' bus='0' port='1'/>
    </hostdev>
    <hostdev mode='subsystem' type='usb' managed='yes'>
      <source><vendor id='0x0781'/><product id='0x5581'/><address bus='3' device='12'/></source>
      <alias name='hostdev1'/>
    </hostdev>
    <hostdev mode='subsystem' type='pci' managed='yes'>
      <source><address domain='0x0000' bus='0x01' slot='0x00' function='0x0'/></source>
    </hostdev>
    <hostdev mode='subsystem' type='usb'>
      <source><vendor id='0x046D'/><product id='0xc52b'/></source>
    </hostdev>
  </devices>
</domain>)";

TEST(UsbDomainXml, ReadsEveryUsbHostdevWithItsAlias) {
    const DomainUsb usb = usb_from_domain_xml(live_xml);
    EXPECT_TRUE(usb.controller);
    EXPECT_THAT(usb.hostdevs, ElementsAre(UsbHostdev{0x0781, 0x5581, 1, 5}, UsbHostdev{0x0781, 0x5581, 3, 12},
                                          UsbHostdev{0x046d, 0xc52b, 0, 0}));
    EXPECT_THAT(usb.aliases, ElementsAre("hostdev0", "hostdev1", ""));
}

TEST(UsbDomainXml, ControllerNoneOrMissingMeansNoUsb) {
    auto domain = [](std::string_view devices) {
        return fmt::format("<domain type='kvm'><name>x</name><devices>{}</devices></domain>", devices);
    };
    EXPECT_FALSE(usb_from_domain_xml(domain("<controller type='usb' model='none'/>")).controller);
    EXPECT_FALSE(usb_from_domain_xml(domain("<controller type='pci' model='pcie-root'/>")).controller);
    EXPECT_TRUE(usb_from_domain_xml(domain("<controller type='usb' index='0'/>")).controller);
    EXPECT_FALSE(usb_from_domain_xml("not xml").controller);
    EXPECT_TRUE(usb_from_domain_xml("<domain><devices><hostdev type='usb'/></devices></domain>").hostdevs.empty())
        << "a hostdev without a source is none";
}

TEST(UsbChoicesXml, RoundTripsThroughTheMetadataElement) {
    const std::vector<usb::UsbChoice> choices{{{"0781:5581", "4C53<&>\"'"}, true}, {{"046D:C52B", ""}, false}};
    const std::string element = usb_choices_element(choices);
    EXPECT_EQ(element, "<usb><device id=\"0781:5581\" serial=\"4C53&lt;&amp;&gt;&quot;&apos;\" choice=\"always\"/>"
                       "<device id=\"046d:c52b\" choice=\"never\"/></usb>");
    // As libvirt stores it: only the outer element in the namespace.
    const std::string domain = fmt::format(
        "<domain><name>x</name><metadata><phyllome-usb:usb xmlns:phyllome-usb='{}'>{}</phyllome-usb:usb>"
        "</metadata></domain>",
        usb_namespace, element.substr(5, element.size() - 11));
    EXPECT_THAT(usb_choices_from_domain_xml(domain, "x"),
                ElementsAre(usb::UsbChoice{{"0781:5581", "4C53<&>\"'"}, true}, usb::UsbChoice{{"046d:c52b", ""}, false}));
    EXPECT_EQ(usb_choices_element({}), "") << "no choices: the element goes";
}

TEST(UsbChoicesXml, BadEntriesAndOtherNamespacesAreIgnored) {
    const std::string domain = fmt::format(
        "<domain><metadata><u:usb xmlns:u='{}'><device id='0781:5581' choice='always'/>"
        "<device id='0781-5581' choice='always'/><device id='0781:5581' choice='sometimes'/>"
        "<u:device id='abcd:ef01' choice='never'/></u:usb>"
        "<o:usb xmlns:o='https://example.org/not-ours'><device id='1111:2222' choice='always'/></o:usb>"
        "</metadata></domain>",
        usb_namespace);
    EXPECT_THAT(usb_choices_from_domain_xml(domain, "x"),
                ElementsAre(usb::UsbChoice{{"0781:5581", ""}, true}, usb::UsbChoice{{"abcd:ef01", ""}, false}));
    EXPECT_EQ(usb_choices_problem({{{"0781:5581", ""}, true}}), "");
    EXPECT_EQ(usb_choices_problem({{{"0781:5581", ""}, true}, {{"sandisk", ""}, true}}),
              "USB choice 2: the id 'sandisk' is not like 0781:5581");
}

// libvirt 11's and QEMU 10's own words for each case.
TEST(UsbAttachError, SaysWhatToDoAndKeepsLibvirtsText) {
    const std::string to = "cannot give USB device 0781:5581 (bus 1 device 5) to guest 'win11': ";
    EXPECT_EQ(usb_attach_error("win11", sandisk, "Requested operation is not valid: domain is not running"),
              to + "it is not running: start it first (libvirt: Requested operation is not valid: domain is not running)");
    EXPECT_EQ(usb_attach_error("win11", sandisk,
                               "Requested operation is not valid: USB device 001:005 is in use by driver QEMU, domain debian"),
              to + "it is given to 'debian' already: take it back from there first (libvirt: Requested operation is not "
                   "valid: USB device 001:005 is in use by driver QEMU, domain debian)");
    EXPECT_EQ(usb_attach_error("win11", sandisk, "internal error: Did not find USB device 781:5581"),
              to + "it is no longer plugged in: plug it in again (libvirt: internal error: Did not find USB device 781:5581)");
    EXPECT_THAT(usb_attach_error("win11", sandisk, "cannot open directory '/sys/bus/usb/devices': No such file or directory"),
                HasSubstr("no longer plugged in"));
    EXPECT_THAT(usb_attach_error("win11", sandisk, "internal error: unable to execute QEMU command 'device_add': Could "
                                                   "not open '/dev/bus/usb/001/005': No such file or directory"),
                HasSubstr("no longer plugged in"));
    EXPECT_EQ(usb_attach_error("win11", {0x0781, 0x5581, 3, 12},
                               "internal error: unable to execute QEMU command 'device_add': Could not open "
                               "'/dev/bus/usb/003/012': Permission denied"),
              "cannot give USB device 0781:5581 (bus 3 device 12) to guest 'win11': the shell may not open "
              "/dev/bus/usb/003/012: give the user access to it (a udev rule with TAG+=\"uaccess\") (libvirt: internal "
              "error: unable to execute QEMU command 'device_add': Could not open '/dev/bus/usb/003/012': Permission "
              "denied)");
    EXPECT_THAT(usb_attach_error("win11", sandisk, "unable to set user and group to '0:0' on '/dev/bus/usb/001/005': "
                                                   "Operation not permitted"),
                HasSubstr("the shell may not open /dev/bus/usb/001/005"));
    EXPECT_EQ(usb_attach_error("win11", sandisk, "something new"), to + "something new") << "unknown: libvirt's text alone";
    EXPECT_EQ(no_usb_controller_error("win11", sandisk),
              "guest 'win11' has no USB controller: cannot give it USB device 0781:5581 (bus 1 device 5); add one "
              "(<controller type='usb' model='qemu-xhci'/>) while it is shut off");
}

// The short form the banner over the guest shows: the reason and what to do, nothing else.
TEST(UsbAttachError, ItsReasonStandsAlone) {
    EXPECT_EQ(usb_error_reason(usb_attach_error("win11", sandisk, "internal error: Did not find USB device 781:5581")),
              "it is no longer plugged in: plug it in again");
    EXPECT_EQ(usb_error_reason(usb_attach_error(
                  "my 'odd' guest", sandisk,
                  "Requested operation is not valid: USB device 001:005 is in use by driver QEMU, domain debian")),
              "it is given to 'debian' already: take it back from there first");
    EXPECT_EQ(usb_error_reason(usb_attach_error("win11", sandisk, "something new")), "something new");
    EXPECT_EQ(usb_error_reason(no_usb_controller_error("win11", sandisk)),
              "it has no USB controller: add one (<controller type='usb' model='qemu-xhci'/>) while it is shut off");
    EXPECT_EQ(usb_error_reason(usb_attach_error("win11", sandisk, "USB is disabled for this domain")),
              "it has no USB controller: add one (<controller type='usb' model='qemu-xhci'/>) while it is shut off");
    EXPECT_EQ(usb_error_reason("the libvirt agent stopped"), "the libvirt agent stopped");
}

TEST(UsbProtocol, OutOfRangeIdsAndOverlongCountsAreRejected) {
    std::string frame;
    agent::encode(agent::Request{agent::UsbDeviceRequest{1, true, "g", sandisk}}, frame);
    std::string body = frame.substr(agent::frame_header_size);
    ASSERT_TRUE(agent::decode_request(body).has_value());
    body[1 + 4 + 1 + 4 + 1 + 2] = 1; // the vendor's third byte: 0x10781
    EXPECT_FALSE(agent::decode_request(body).has_value());

    frame.clear();
    agent::encode(agent::Request{agent::UsbChoicesRequest{1, "g", {}}}, frame);
    body = frame.substr(agent::frame_header_size);
    body[1 + 4 + 4 + 1 + 3] = 0x7f; // the choices' count: far more than the body holds
    EXPECT_FALSE(agent::decode_request(body).has_value());
}

// set_usb_choices against libvirt's test driver: its "test" guest runs.
class InventoryUsbChoicesTest : public ::testing::Test {
protected:
    void SetUp() override {
        inventory = std::make_unique<Inventory>(loop.get(), "test:///default", Inventory::Callbacks{[this] { ++changes; }, {}});
        ASSERT_EQ(inventory->status().state, ConnectionState::Connected) << inventory->status().error;
        ASSERT_TRUE(pump_until(loop.get(), [&] { return changes > 0; }));
    }

    std::pair<bool, std::string> set(const std::string& guest, std::vector<usb::UsbChoice> choices,
                                     std::vector<usb::UsbChoice>* seen = nullptr) {
        std::optional<std::pair<bool, std::string>> result;
        inventory->set_usb_choices(guest, std::move(choices), [&](bool ok, std::string error) {
            result.emplace(ok, std::move(error));
            if (seen != nullptr && inventory->find(guest) != nullptr)
                *seen = inventory->find(guest)->usb_choices;
        });
        EXPECT_FALSE(result.has_value()) << "never inside the call";
        EXPECT_TRUE(pump_until(loop.get(), [&] { return result.has_value(); }));
        return result.value_or(std::pair{false, "timed out"});
    }

    std::string metadata_of(std::string_view ns, unsigned flags) const {
        DomainPtr domain{virDomainLookupByName(inventory->connection(), "test")};
        LibvirtString text{domain ? virDomainGetMetadata(domain.get(), VIR_DOMAIN_METADATA_ELEMENT,
                                                         std::string{ns}.c_str(), flags)
                                  : nullptr};
        return text ? std::string{text.get()} : std::string{};
    }

    testing::LoopPtr loop = testing::make_loop();
    int changes = 0;
    std::unique_ptr<Inventory> inventory;
};

TEST_F(InventoryUsbChoicesTest, RoundTripBesideTheIdentity) {
    std::optional<bool> identity_ok;
    inventory->set_identity("test", 2, std::nullopt, [&](bool ok, std::string) { identity_ok = ok; });
    ASSERT_TRUE(pump_until(loop.get(), [&] { return identity_ok.has_value(); }));
    ASSERT_TRUE(*identity_ok);

    const std::vector<usb::UsbChoice> choices{{{"0781:5581", "4C530001"}, true}, {{"046d:c52b", ""}, false}};
    std::vector<usb::UsbChoice> seen;
    auto [ok, error] = set("test", choices, &seen);
    ASSERT_TRUE(ok) << error;
    EXPECT_EQ(seen, choices) << "guests() has them before `done` runs";
    EXPECT_THAT(metadata_of(usb_namespace, VIR_DOMAIN_AFFECT_LIVE), HasSubstr("id=\"0781:5581\""));
    EXPECT_THAT(metadata_of(usb_namespace, VIR_DOMAIN_AFFECT_CONFIG), HasSubstr("choice=\"never\""));
    EXPECT_EQ(inventory->find("test")->slot, 2) << "the identity stays: another namespace";

    std::tie(ok, error) = set("test", {});
    ASSERT_TRUE(ok) << error;
    EXPECT_TRUE(inventory->find("test")->usb_choices.empty());
    EXPECT_EQ(metadata_of(usb_namespace, VIR_DOMAIN_AFFECT_CONFIG), "");
    EXPECT_EQ(inventory->find("test")->slot, 2);
}

TEST_F(InventoryUsbChoicesTest, BadIdsAndUnknownGuestsAreRefused) {
    auto [ok, error] = set("test", {{{"sandisk", ""}, true}});
    EXPECT_FALSE(ok);
    EXPECT_EQ(error, "USB choice 1: the id 'sandisk' is not like 0781:5581");
    std::tie(ok, error) = set("nosuch", {});
    EXPECT_FALSE(ok);
    EXPECT_THAT(error, HasSubstr("no guest named 'nosuch'"));
}

// The test driver runs a node file's guests as they are, USB hostdevs and all, touching no host.
TEST(InventoryUsbDevices, ListedWhileTheGuestRunsAndGoneWhenItStops) {
    TempDir dir;
    const auto node = dir.path() / "node.xml";
    std::ofstream{node} << fmt::format(
        "<node><domain type='test'><name>usb</name><memory>65536</memory><os><type>hvm</type></os><devices>"
        "<controller type='usb' model='qemu-xhci'/>{}{}</devices></domain></node>",
        usb_hostdev_xml(sandisk), usb_hostdev_xml({0x0781, 0x5581, 3, 12}));
    testing::LoopPtr loop = testing::make_loop();
    std::vector<ActionResult> results;
    Inventory inventory{loop.get(), "test://" + node.string(),
                        Inventory::Callbacks{{}, [&](const ActionResult& r) { results.push_back(r); }}};
    ASSERT_EQ(inventory.status().state, ConnectionState::Connected) << inventory.status().error;
    ASSERT_EQ(inventory.find("usb")->state, GuestState::Running);
    EXPECT_THAT(inventory.find("usb")->usb_devices, ElementsAre(sandisk, UsbHostdev{0x0781, 0x5581, 3, 12}));
    EXPECT_TRUE(inventory.find("usb")->usb_controller);

    std::optional<std::pair<bool, std::string>> detached;
    inventory.detach_usb("usb", sandisk, [&](bool ok, std::string error) { detached.emplace(ok, std::move(error)); });
    ASSERT_TRUE(pump_until(loop.get(), [&] { return detached.has_value(); }));
    // The test driver detaches nothing: the failure names the guest and the device, and nothing changed.
    EXPECT_FALSE(detached->first);
    EXPECT_THAT(detached->second, ::testing::StartsWith("cannot take USB device 0781:5581 (bus 1 device 5) back from "
                                                        "guest 'usb': "));
    EXPECT_EQ(inventory.find("usb")->usb_devices.size(), 2u);

    inventory.request(Action::ForceOff, "usb");
    ASSERT_TRUE(pump_until(loop.get(), [&] { return !results.empty(); }));
    ASSERT_TRUE(results.back().ok) << results.back().error;
    EXPECT_EQ(inventory.find("usb")->state, GuestState::ShutOff);
    EXPECT_TRUE(inventory.find("usb")->usb_devices.empty()) << "live devices only";
}

} // namespace
} // namespace phyllome::guestview
