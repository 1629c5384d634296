// Issue 18 through the real shell: USB devices on a simulated device tree (umockdev: the shell
// runs with its preload and sees the testbed this program fills, and gets its udev events), a
// real guest (QEMU under TCG, OVMF) on a private system-mode libvirtd as on a real host (a
// libvirt under the preload sees no real /sys and starts no guest), Host+U by wtype,
// phyllomectl's usb verbs and the overlay's device rows. This machine has no USB at all, so no
// QEMU can take a device here: every give reaches libvirt for real and must fail with a reason
// the user reads, and change nothing. Needs root (the daemon).
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>

#include "embedded_guest.hpp"
#include "tests/guestview/system_libvirtd.hpp"
#include "shell_process.hpp"
#include "tests/guestview/usb_testbed.hpp"

namespace phyllome::test {
namespace {

using namespace std::chrono_literals;

constexpr const char* guest = "phyllome-it-usb";

UsbFake stick() {
    UsbFake f;
    f.vendor = 0x0781;
    f.product = 0x5581;
    f.serial = "4C530001";
    f.vendor_name = "SanDisk Corp.";
    f.product_name = "Ultra";
    f.interfaces = ":080650:";
    f.sysname = "1-2";
    f.address = 5;
    return f;
}

UsbFake keyboard() {
    UsbFake f;
    f.vendor = 0x046d;
    f.product = 0xc31c;
    f.vendor_name = "Logitech, Inc.";
    f.product_name = "Keyboard K120";
    f.interfaces = ":030101:";
    f.sysname = "1-3";
    f.address = 6;
    return f;
}

UsbFake webcam() { // plugged in before the shell starts
    UsbFake f;
    f.vendor = 0x046d;
    f.product = 0x0825;
    f.vendor_name = "Logitech, Inc.";
    f.product_name = "Webcam C270";
    f.interfaces = ":0e0100:0e0200:010100:";
    f.sysname = "1-4";
    f.address = 3;
    return f;
}

UsbFake token() { // a [usb] rule says never
    UsbFake f;
    f.vendor = 0x1050;
    f.product = 0x0407;
    f.vendor_name = "Yubico.com";
    f.product_name = "Yubikey 4/5 OTP+U2F+CCID";
    f.interfaces = ":030101:0b0000:";
    f.sysname = "1-5";
    f.address = 7;
    return f;
}

UsbFake printer() { // a [usb] rule gives it to the guest on sight
    UsbFake f;
    f.vendor = 0x04a9;
    f.product = 0x1746;
    f.vendor_name = "Canon, Inc.";
    f.product_name = "PIXMA MG5200";
    f.interfaces = ":070102:";
    f.sysname = "1-6";
    f.address = 8;
    return f;
}

std::vector<std::pair<std::string, std::string>> as_pairs(const std::vector<std::string>& env) {
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& kv : env)
        if (auto eq = kv.find('='); eq != std::string::npos)
            out.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
    return out;
}

// The "usb" entry of status --json for `device`, or empty.
std::string usb_entry(const std::string& status, const std::string& device) {
    std::smatch m;
    if (std::regex_search(status, m, std::regex("\\{\"device\": \"" + device + "\", \"id\"[^}]*\\}")))
        return m.str();
    return {};
}

class UsbDevicesRealQemu : public ::testing::Test {
protected:
    void SetUp() override {
        if (const std::string why = embedded_guest_missing({"virsh", "wtype"}); !why.empty())
            GTEST_SKIP() << why;
        const guestview::testing::TestStart started = guestview::testing::start_for_test(daemon);
        if (!started.skip.empty())
            GTEST_SKIP() << started.skip;
        ASSERT_TRUE(started.failure.empty()) << started.failure;
        char dir[] = "/tmp/phyllome-usb-it-XXXXXX";
        ASSERT_NE(mkdtemp(dir), nullptr);
        const std::string path = std::string(dir) + "/guest.xml";
        std::ofstream(path) << embedded_guest_xml(guest);
        auto r = run_command({"virsh", "-c", daemon->uri(), "define", path}, {}, 120s);
        ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
        std::filesystem::remove_all(dir);
    }
    void TearDown() override {
        shell.reset();
        if (HasFailure() && daemon)
            std::fprintf(stderr, "libvirtd's log:\n%s\n", daemon->log().c_str());
        daemon.reset(); // its QEMU goes with it
    }
    CommandResult virsh(const std::string& commands) {
        return run_command({"virsh", "-c", daemon->uri(), commands}, {}, 120s);
    }
    void host(const std::string& key) {
        auto r = shell->wtype({"-P", "Control_R", "-k", key, "-p", "Control_R"});
        ASSERT_EQ(r.exit_code, 0) << r.err;
    }
    // PHYLLOME_USB_SHOTS=DIR keeps what the user saw, for a person to look at.
    void keep_shot(const std::string& name) {
        if (const char* dir = std::getenv("PHYLLOME_USB_SHOTS"))
            run_command({"grim", std::string(dir) + "/" + name + ".png"}, shell->client_env());
    }
    void start_shell() {
        ShellProcess::Options o;
        o.libvirt_uri = daemon->uri();
        o.env = as_pairs(bed.child_environment());
        o.config_toml += "[security]\nallow_virtual_input = true\n"
                         "[[usb.device]]\nid = \"1050:0407\"\nnever = true\n"
                         "[[usb.device]]\nid = \"04a9:1746\"\nalways = \"" + std::string(guest) + "\"\n";
        shell = std::make_unique<ShellProcess>(o);
        ASSERT_TRUE(shell->started()) << shell->log();
    }
    std::optional<guestview::testing::SystemLibvirtd> daemon;
    UsbTestbed bed;
    std::unique_ptr<ShellProcess> shell;
};

TEST_F(UsbDevicesRealQemu, PluggedDevicesAreOfferedGivenThroughLibvirtAndListed) {
    bed.add_quietly(webcam());
    start_shell();
    // Present at start: listed, with the host.
    std::string status = shell->status_json();
    const std::string cam = usb_entry(status, "1-4");
    ASSERT_FALSE(cam.empty()) << status << shell->log();
    EXPECT_NE(cam.find("\"name\": \"Logitech Webcam C270\""), std::string::npos) << cam;
    EXPECT_NE(cam.find("\"kinds\": [\"audio\", \"video\"]"), std::string::npos) << cam;
    EXPECT_NE(cam.find("\"owner\": null"), std::string::npos) << cam;

    auto r = shell->ctl({"identity", "colour=#e01b24", guest});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    r = shell->ctl({"start", guest});
    ASSERT_EQ(r.exit_code, 0) << r.err << shell->log();
    ASSERT_TRUE(shell->wait_for_status(std::string(R"("view": "guest", "guest": ")") + guest + "\"", 120s))
        << shell->status_json() << shell->log();

    // Plugged while the guest is shown: offered, over the guest, in its colour.
    auto plugged_at = std::chrono::steady_clock::now();
    const std::string stick_path = bed.add(stick());
    const std::string offer = std::string("SanDisk Ultra plugged in — Right Ctrl+U gives it to ") + guest;
    ASSERT_TRUE(shell->wait_for_status(offer, 10s)) << shell->status_json() << shell->log();
    std::printf("plug -> offer in status: %.1f ms (polled)\n",
                std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - plugged_at).count());
    auto img = shell->screenshot();
    keep_shot("usb-offer");
    ASSERT_TRUE(img);
    const int bx = (img->width - 760) / 2 + 3, by = img->height / 12 + 20;
    EXPECT_EQ(img->pixel(bx, by), 0xe01b24u) << "the offer's banner is not over the guest in its colour";
    EXPECT_EQ(img->pixel(bx + 5, by + 30), 0xe01b24u);
    EXPECT_NE(usb_entry(shell->status_json(), "1-2").find("\"offered\": true"), std::string::npos);

    // Host+U: libvirt is asked for real; with no such device on this host it refuses, and the
    // user reads why. Nothing changes.
    auto chord_at = std::chrono::steady_clock::now();
    host("u");
    const std::string refused = std::string(guest) + " could not take SanDisk Ultra: ";
    ASSERT_TRUE(shell->wait_for_status(refused, 60s)) << shell->status_json() << shell->log();
    keep_shot("usb-refused");
    std::printf("Host+U -> libvirt's answer in status: %.1f ms (polled, wtype included)\n",
                std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - chord_at).count());
    status = shell->status_json();
    std::smatch why;
    ASSERT_TRUE(std::regex_search(status, why, std::regex("could not take SanDisk Ultra: ([^\"]*)")));
    std::printf("Host+U on a device this host does not have: %s\n", why[1].str().c_str());
    const std::string entry = usb_entry(status, "1-2");
    EXPECT_NE(entry.find("\"owner\": null, \"busy\": null"), std::string::npos) << entry;
    EXPECT_NE(shell->log().find(std::string("usb: giving SanDisk Ultra to ") + guest), std::string::npos)
        << shell->log();

    // phyllomectl: the list, a give that fails the same way, and a choice remembered in libvirt.
    r = shell->ctl({"usb"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("1-2"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("0781:5581"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("SanDisk Ultra (storage)"), std::string::npos) << r.out;
    r = shell->ctl({"usb", "attach", guest, "0781:5581"});
    EXPECT_EQ(r.exit_code, 1) << r.out;
    EXPECT_NE(r.err.find(refused), std::string::npos) << r.err;
    r = shell->ctl({"usb", "remember", guest, "1-2", "never"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("is never offered to"), std::string::npos) << r.out;
    auto xml = virsh(std::string("dumpxml ") + guest);
    EXPECT_NE(xml.out.find("0781:5581"), std::string::npos) << "the choice is not in the guest's metadata:\n" << xml.out;
    EXPECT_NE(xml.out.find("4C530001"), std::string::npos) << xml.out;

    // A keyboard stays with the host until Host+U is pressed twice.
    bed.add(keyboard());
    ASSERT_TRUE(shell->wait_for_status("Logitech Keyboard K120 (keyboard) plugged in: it stays with this computer", 10s))
        << shell->status_json();
    host("u");
    ASSERT_TRUE(shell->wait_for_status("Logitech Keyboard K120 is this computer's keyboard", 10s))
        << shell->status_json();
    EXPECT_EQ(shell->log().find("usb: giving Logitech Keyboard K120"), std::string::npos) << shell->log();

    // A [usb] rule: never, not even when asked.
    bed.add(token());
    ASSERT_TRUE(shell->wait_for_status("Yubico Yubikey 4/5 OTP+U2F+CCID plugged in: it stays with this computer", 10s))
        << shell->status_json();
    r = shell->ctl({"usb", "attach", guest, "1-5", "--force"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("never"), std::string::npos) << r.err;

    // A [usb] rule: always to this guest, on sight, without a chord.
    bed.add(printer());
    ASSERT_TRUE(shell->wait_for_status(std::string(guest) + " could not take Canon PIXMA MG5200", 60s))
        << shell->status_json() << shell->log();
    EXPECT_NE(shell->log().find(std::string("usb: giving Canon PIXMA MG5200 to ") + guest), std::string::npos);

    // Unplugged: gone from the list, said so.
    bed.remove(stick_path);
    ASSERT_TRUE(shell->wait_for_status("SanDisk Ultra unplugged", 10s)) << shell->status_json();
    EXPECT_TRUE(usb_entry(shell->status_json(), "1-2").empty());

    // The overlay lists every device with its holder, one row each.
    r = shell->ctl({"overlay"});
    ASSERT_EQ(r.exit_code, 0);
    ASSERT_TRUE(shell->wait_for_status(R"("usb_rows": [{"device": "1-4")", 10s)) << shell->status_json();
    status = shell->status_json();
    std::smatch row;
    ASSERT_TRUE(std::regex_search(status, row, std::regex(R"("usb_rows": \[\{"device": "1-4", "x": (\d+), "y": (\d+), "width": (\d+), "height": (\d+))")));
    img = shell->screenshot();
    keep_shot("usb-overlay");
    ASSERT_TRUE(img);
    const int rx = std::stoi(row[1]), ry = std::stoi(row[2]), rw = std::stoi(row[3]), rh = std::stoi(row[4]);
    // Text on the row: more than one colour in it.
    std::set<std::uint32_t> colours;
    for (int y = ry; y < ry + rh; y += 2)
        for (int x = rx; x < rx + rw; x += 3)
            colours.insert(img->pixel(x, y));
    EXPECT_GT(colours.size(), 4u) << "the webcam's row has no text";

    // The guest card (O) has a row per device; Enter makes the guest remember it (always), which
    // also gives it now since it is free, and libvirt keeps the choice in the guest's metadata.
    ASSERT_EQ(shell->wtype({"-k", "o"}).exit_code, 0);
    ASSERT_TRUE(shell->wait_for_status("Logitech Webcam C270: offered, Host+U gives it", 10s)) << shell->status_json();
    bool on_row = false;
    for (int i = 0; i < 12 && !on_row; ++i) {
        status = shell->status_json();
        std::smatch card;
        ASSERT_TRUE(std::regex_search(status, card, std::regex(R"re("guest_card": \{"guest": "[^"]*", "selected": (\d+), "rows": \[(.*?)\]\})re")));
        // The selected row's label: count the labels before it.
        std::vector<std::string> labels;
        const std::string rows = card[2];
        const std::regex quoted(R"re("([^"]*)")re");
        for (std::sregex_iterator it(rows.begin(), rows.end(), quoted), end; it != end; ++it)
            labels.push_back((*it)[1]);
        const std::size_t selected = std::stoul(card[1]);
        ASSERT_LT(selected, labels.size());
        on_row = labels[selected].starts_with("Logitech Webcam C270:");
        if (!on_row) { // one row down, and wait until the shell has moved
            ASSERT_EQ(shell->wtype({"-k", "Down"}).exit_code, 0);
            ASSERT_TRUE(shell->wait_for_status("\"selected\": " + std::to_string(selected + 1) + ", \"rows\"", 5s));
        }
    }
    ASSERT_TRUE(on_row) << shell->status_json();
    ASSERT_EQ(shell->wtype({"-k", "Return"}).exit_code, 0);
    ASSERT_TRUE(shell->wait_for_status(std::string("Logitech Webcam C270: always given to ") + guest, 10s))
        << shell->status_json() << shell->log();
    ASSERT_TRUE(shell->wait_for_status(std::string(guest) + " could not take Logitech Webcam C270", 30s))
        << shell->status_json() << shell->log();
    xml = virsh(std::string("dumpxml ") + guest);
    EXPECT_NE(xml.out.find("046d:0825"), std::string::npos) << xml.out;
    EXPECT_TRUE(shell->running());
    EXPECT_NE(shell->status_json().find(R"("state": "running")"), std::string::npos);
}

} // namespace
} // namespace phyllome::test
