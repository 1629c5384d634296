// Guest adoption: the XML rewrite alone, and through the Inventory against libvirt's test driver.
#include "guestview/domain_adoption.hpp"

#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <libvirt/libvirt.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xpath.h>

#include "guestview/domain_graphics.hpp"
#include "guestview/inventory.hpp"
#include "guestview/libvirt_handles.hpp"
#include "tests/guestview/test_support.hpp"

namespace phyllome::guestview {
namespace {

using ::testing::HasSubstr;

// What virt-manager writes for a SPICE guest (abridged), with the shell's identity metadata.
constexpr std::string_view spice_guest = R"(<domain type='kvm'>
  <name>win11</name>
  <uuid>1b4e28ba-2fa1-11d2-883f-0016d3cca427</uuid>
  <metadata>
    <phyllome:identity xmlns:phyllome="https://phyllo.me/xmlns/shell/1.0" slot="3"/>
  </metadata>
  <memory unit='KiB'>4194304</memory>
  <os><type arch='x86_64' machine='pc-q35-7.2'>hvm</type></os>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='/var/lib/libvirt/images/win11.qcow2'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <interface type='network'>
      <mac address='52:54:00:12:34:56'/>
      <source network='default'/>
      <model type='virtio'/>
    </interface>
    <channel type='spicevmc'>
      <target type='virtio' name='com.redhat.spice.0'/>
    </channel>
    <channel type='unix'>
      <target type='virtio' name='org.qemu.guest_agent.0'/>
    </channel>
    <graphics type='spice' autoport='yes'>
      <listen type='address'/>
      <image compression='off'/>
      <gl enable='yes' rendernode='/dev/dri/renderD129'/>
    </graphics>
    <graphics type='vnc' port='-1'/>
    <sound model='ich9'>
      <audio id='1'/>
    </sound>
    <audio id='1' type='spice'/>
    <video>
      <model type='qxl' ram='65536' vram='65536' vgamem='16384' heads='2' primary='yes'>
        <acceleration accel3d='yes'/>
      </model>
    </video>
    <redirdev bus='usb' type='spicevmc'/>
    <redirdev bus='usb' type='spicevmc'/>
  </devices>
</domain>
)";

struct DocFreer {
    void operator()(xmlDoc* doc) const { xmlFreeDoc(doc); }
};
struct ContextFreer {
    void operator()(xmlXPathContext* context) const { xmlXPathFreeContext(context); }
};
struct ObjectFreer {
    void operator()(xmlXPathObject* object) const { xmlXPathFreeObject(object); }
};

// A parsed domain to ask XPath questions of.
class Parsed {
public:
    explicit Parsed(std::string_view xml)
        : doc_(xmlReadMemory(xml.data(), static_cast<int>(xml.size()), "d.xml", nullptr, XML_PARSE_NONET)),
          context_(doc_ ? xmlXPathNewContext(doc_.get()) : nullptr) {}
    bool ok() const { return context_ != nullptr; }

    // Each match serialised, so elements compare with everything under them.
    std::vector<std::string> nodes(const char* xpath) const {
        std::vector<std::string> found;
        std::unique_ptr<xmlXPathObject, ObjectFreer> result{
            xmlXPathEvalExpression(reinterpret_cast<const xmlChar*>(xpath), context_.get())};
        if (!result || result->nodesetval == nullptr)
            return found;
        for (int i = 0; i < result->nodesetval->nodeNr; ++i) {
            xmlBuffer* buffer = xmlBufferCreate();
            xmlNodeDump(buffer, doc_.get(), result->nodesetval->nodeTab[i], 0, 0);
            found.emplace_back(reinterpret_cast<const char*>(xmlBufferContent(buffer)));
            xmlBufferFree(buffer);
        }
        return found;
    }
    std::size_t count(const char* xpath) const { return nodes(xpath).size(); }

private:
    std::unique_ptr<xmlDoc, DocFreer> doc_;
    std::unique_ptr<xmlXPathContext, ContextFreer> context_;
};

std::string adopt(std::string_view xml) {
    std::string error;
    std::string out = adopt_domain_xml(xml, error);
    EXPECT_TRUE(error.empty()) << error;
    return out;
}

TEST(AdoptDomainXml, ReplacesSpiceAndVncByOneDbusP2PDisplayKeepingGl) {
    const Parsed out{adopt(spice_guest)};
    ASSERT_TRUE(out.ok());
    EXPECT_EQ(out.count("/domain/devices/graphics"), 1u);
    EXPECT_EQ(out.count("/domain/devices/graphics[@type='dbus' and @p2p='yes']"), 1u);
    EXPECT_EQ(out.count("/domain/devices/graphics/gl[@enable='yes' and @rendernode='/dev/dri/renderD129']"), 1u);
    // The GL setting and the sound it carries (SPICE's audio, now D-Bus), nothing of SPICE's
    // (listen, image).
    EXPECT_EQ(out.count("/domain/devices/graphics/*"), 2u);
    EXPECT_EQ(out.count("/domain/devices/graphics/audio[@id='1']"), 1u);
}

TEST(AdoptDomainXml, MakesThePrimaryVideoVirtioKeepingHeadsAndAccel3dWithGl) {
    const Parsed out{adopt(spice_guest)};
    EXPECT_EQ(out.count("/domain/devices/video/model[@type='virtio' and @heads='2' and @primary='yes']"), 1u);
    EXPECT_EQ(out.count("/domain/devices/video/model[@ram or @vram or @vgamem]"), 0u);
    EXPECT_EQ(out.count("/domain/devices/video/model/acceleration[@accel3d='yes']"), 1u);
}

TEST(AdoptDomainXml, DropsAccel3dWhenNoGlDisplayWasThere) {
    std::string xml{spice_guest};
    xml.replace(xml.find("<gl enable='yes'"), std::string_view{"<gl enable='yes'"}.size(), "<gl enable='no'");
    const Parsed out{adopt(xml)};
    EXPECT_EQ(out.count("/domain/devices/graphics/gl"), 0u);
    EXPECT_EQ(out.count("/domain/devices/video/model/acceleration"), 0u);
}

TEST(AdoptDomainXml, EglHeadlessMeansGl) {
    const std::string xml = R"(<domain type='kvm'><name>g</name><devices>
    <graphics type='vnc'/>
    <graphics type='egl-headless'><gl rendernode='/dev/dri/renderD128'/></graphics>
    <video><model type='virtio'><acceleration accel3d='yes'/></model></video>
  </devices></domain>)";
    const Parsed out{adopt(xml)};
    EXPECT_EQ(out.count("/domain/devices/graphics"), 1u);
    EXPECT_EQ(out.count("/domain/devices/graphics/gl[@enable='yes' and @rendernode='/dev/dri/renderD128']"), 1u);
    EXPECT_EQ(out.count("/domain/devices/video/model/acceleration[@accel3d='yes']"), 1u);
}

TEST(AdoptDomainXml, RemovesSpiceOnlyDevicesAndTurnsSpiceAudioIntoDbusAudio) {
    const Parsed out{adopt(spice_guest)};
    EXPECT_EQ(out.count("//channel[@type='spicevmc']"), 0u);
    EXPECT_EQ(out.count("//redirdev"), 0u);
    EXPECT_EQ(out.count("//audio[@type='spice']"), 0u);
    // The sound card stays and plays through the shell: SPICE audio becomes D-Bus audio, which
    // the D-Bus display carries.
    EXPECT_EQ(out.count("/domain/devices/audio[@id='1' and @type='dbus']"), 1u);
    EXPECT_EQ(out.count("/domain/devices/sound[@model='ich9']/audio[@id='1']"), 1u);
    EXPECT_EQ(out.count("/domain/devices/graphics[@type='dbus']/audio[@id='1']"), 1u);
}

TEST(AdoptDomainXml, TheSpiceAgentChannelBecomesQemusVdagent) {
    const Parsed out{adopt(spice_guest)};
    EXPECT_EQ(out.count("/domain/devices/channel[@type='qemu-vdagent']/target[@type='virtio' and "
                        "@name='com.redhat.spice.0']"),
              1u);
    EXPECT_EQ(out.count("/domain/devices/channel[@type='qemu-vdagent']/source/clipboard[@copypaste='yes']"), 1u);
    // Adopting again changes nothing (no second vdagent).
    std::string error;
    const std::string once = adopt_domain_xml(spice_guest, error);
    EXPECT_EQ(adopt_domain_xml(once, error), once);
}

TEST(AdoptDomainXml, KeepsDisksNicsMetadataUuidAndOtherChannels) {
    const Parsed before{spice_guest};
    const Parsed after{adopt(spice_guest)};
    for (const char* xpath : {"/domain/devices/disk", "/domain/devices/interface", "/domain/metadata", "/domain/uuid",
                              "/domain/name", "/domain/os", "/domain/devices/channel[@type='unix']",
                              "/domain/devices/emulator", "/domain/memory"}) {
        EXPECT_FALSE(before.nodes(xpath).empty()) << xpath;
        EXPECT_EQ(after.nodes(xpath), before.nodes(xpath)) << xpath;
    }
}

TEST(AdoptDomainXml, TheResultIsSeenAsShowable) {
    const GraphicsInfo before = graphics_from_domain_xml(spice_guest);
    EXPECT_EQ(before.support, GraphicsSupport::Unsupported);
    const GraphicsInfo after = graphics_from_domain_xml(adopt(spice_guest));
    EXPECT_EQ(after.support, GraphicsSupport::DbusP2P);
    EXPECT_EQ(after.dbus_graphics_index, 0);
}

TEST(AdoptDomainXml, TheResultValidatesAgainstLibvirtsSchema) {
    if (std::system("command -v virt-xml-validate > /dev/null") != 0)
        GTEST_SKIP() << "virt-xml-validate (libvirt-clients) is missing";
    testing::TempDir dir;
    const auto file = dir.path() / "adopted.xml";
    std::ofstream{file} << adopt(spice_guest);
    const std::string command = "virt-xml-validate '" + file.string() + "' domain > /dev/null 2>&1";
    EXPECT_EQ(std::system(command.c_str()), 0) << adopt(spice_guest);
}

TEST(AdoptDomainXml, AnAdoptedGuestIsLeftByteForByte) {
    const std::string once = adopt(spice_guest);
    EXPECT_EQ(adopt(once), once);
    const std::string dbus_guest = R"(<domain type='qemu'>
  <name>phyllome-demo</name>
  <devices>
    <graphics type='dbus' p2p='yes'/>
    <video><model type='virtio' heads='1' primary='yes'/></video>
  </devices>
</domain>
)";
    EXPECT_EQ(adopt(dbus_guest), dbus_guest);
}

TEST(AdoptDomainXml, AddsADisplayAndGpuToAGuestWithout) {
    const Parsed out{adopt("<domain type='kvm'><name>headless</name><devices/></domain>")};
    EXPECT_EQ(out.count("/domain/devices/graphics[@type='dbus' and @p2p='yes']"), 1u);
    EXPECT_EQ(out.count("/domain/devices/video/model[@type='virtio']"), 1u);
}

TEST(AdoptDomainXml, RefusesWhatIsNotADomain) {
    std::string error;
    EXPECT_EQ(adopt_domain_xml("<network/>", error), "");
    EXPECT_THAT(error, HasSubstr("not a libvirt domain"));
    error.clear();
    EXPECT_EQ(adopt_domain_xml("<domain", error), "");
    EXPECT_FALSE(error.empty());
}

// Through the Inventory, on libvirt's test driver: a shut-off SPICE guest becomes showable.
class InventoryAdoptTest : public ::testing::Test {
protected:
    static constexpr const char* name = "phyllome-adopt-test";

    void SetUp() override {
        inventory = std::make_unique<Inventory>(loop.get(), "test:///default",
                                                Inventory::Callbacks{[this] { ++changes; }, {}});
        ASSERT_EQ(inventory->status().state, ConnectionState::Connected) << inventory->status().error;
        // test:///default is one shared state per process: define in the test, undefine after.
        const std::string xml = fmt::format(R"(<domain type='test'>
  <name>{}</name>
  <memory>65536</memory>
  <os><type>hvm</type></os>
  <devices>
    <disk type='file' device='disk'><source file='/guest.img'/><target dev='vda' bus='virtio'/></disk>
    <graphics type='spice' autoport='yes'/>
    <video><model type='qxl' vram='65536' heads='1' primary='yes'/></video>
    <channel type='spicevmc'><target type='virtio' name='com.redhat.spice.0'/></channel>
  </devices>
</domain>)",
                                            name);
        DomainPtr defined{virDomainDefineXML(inventory->connection(), xml.c_str())};
        ASSERT_TRUE(defined) << last_libvirt_error();
        ASSERT_TRUE(testing::pump_until(loop.get(), [&] { return inventory->find(name) != nullptr; }));
    }

    void TearDown() override {
        if (DomainPtr domain{virDomainLookupByName(inventory->connection(), name)})
            virDomainUndefine(domain.get());
    }

    testing::LoopPtr loop = testing::make_loop();
    std::unique_ptr<Inventory> inventory;
    int changes = 0;
};

TEST_F(InventoryAdoptTest, ASpiceGuestBecomesShowable) {
    const GuestInfo* guest = inventory->find(name);
    ASSERT_NE(guest, nullptr);
    EXPECT_EQ(guest->state, GuestState::ShutOff);
    EXPECT_TRUE(needs_adoption(*guest));

    std::optional<std::pair<bool, std::string>> result;
    inventory->adopt(name, [&](bool ok, std::string error) { result.emplace(ok, std::move(error)); });
    EXPECT_FALSE(result) << "never inside the call";
    ASSERT_TRUE(testing::pump_until(loop.get(), [&] { return result.has_value(); }));
    ASSERT_TRUE(result->first) << result->second;

    guest = inventory->find(name);
    ASSERT_NE(guest, nullptr);
    EXPECT_EQ(guest->graphics, GraphicsSupport::DbusP2P) << "already when done runs";
    EXPECT_FALSE(needs_adoption(*guest));
    EXPECT_EQ(guest->dbus_graphics_index, 0);

    DomainPtr domain{virDomainLookupByName(inventory->connection(), name)};
    LibvirtString xml{virDomainGetXMLDesc(domain.get(), VIR_DOMAIN_XML_INACTIVE)};
    EXPECT_THAT(xml.get(), HasSubstr("/guest.img")) << "the disk is kept";
    EXPECT_THAT(xml.get(), ::testing::Not(HasSubstr("spicevmc")));
}

TEST_F(InventoryAdoptTest, UnknownGuestsFailFromTheLoop) {
    std::optional<std::pair<bool, std::string>> result;
    inventory->adopt("no-such-guest", [&](bool ok, std::string error) { result.emplace(ok, std::move(error)); });
    EXPECT_FALSE(result);
    ASSERT_TRUE(testing::pump_until(loop.get(), [&] { return result.has_value(); }));
    EXPECT_FALSE(result->first);
    EXPECT_THAT(result->second, HasSubstr("no guest named 'no-such-guest'"));
}

} // namespace
} // namespace phyllome::guestview
