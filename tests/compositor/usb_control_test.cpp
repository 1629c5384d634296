// The USB verbs: phyllomectl's command line, the control protocol's wire form, and how the
// devices are written for people and programs.
#include <gtest/gtest.h>

#include "compositor/control_protocol.hpp"
#include "compositor/phyllomectl_usb.hpp"
#include "compositor/usb_status.hpp"

namespace phyllome::compositor {
namespace {

std::variant<control::Request, std::string> ctl_parse(std::vector<std::string> words) {
    std::vector<char*> argv;
    static std::string program = "phyllomectl";
    argv.push_back(program.data());
    for (auto& w : words)
        argv.push_back(w.data());
    auto parsed = ctl::parse_usb_command(static_cast<int>(argv.size()), argv.data());
    EXPECT_TRUE(parsed.has_value());
    return parsed ? *parsed : std::variant<control::Request, std::string>(std::string("not usb"));
}

control::Request round_trip(const control::Request& r) {
    std::string line = control::format_request(r);
    EXPECT_EQ(line.back(), '\n');
    line.pop_back();
    auto parsed = control::parse_request(line);
    EXPECT_TRUE(std::holds_alternative<control::Request>(parsed)) << line;
    return std::holds_alternative<control::Request>(parsed) ? std::get<control::Request>(parsed) : control::Request{};
}

TEST(UsbCommandLine, EachVerbBecomesItsRequestAndSurvivesTheWire) {
    auto list = std::get<control::Request>(ctl_parse({"usb"}));
    EXPECT_EQ(list.verb, control::Request::Verb::Usb);
    EXPECT_EQ(round_trip(list).verb, control::Request::Verb::Usb);
    auto json = std::get<control::Request>(ctl_parse({"usb", "list", "--json"}));
    EXPECT_EQ(round_trip(json).verb, control::Request::Verb::UsbJson);

    auto attach = std::get<control::Request>(ctl_parse({"usb", "attach", "my guest", "SanDisk Ultra", "--force"}));
    auto a = round_trip(attach);
    EXPECT_EQ(a.verb, control::Request::Verb::UsbAttach);
    EXPECT_EQ(a.guest, "my guest");
    EXPECT_EQ(a.options["device"], "SanDisk Ultra");
    EXPECT_EQ(a.options["force"], "1");

    auto d = round_trip(std::get<control::Request>(ctl_parse({"usb", "detach", "1-2"})));
    EXPECT_EQ(d.verb, control::Request::Verb::UsbDetach);
    EXPECT_EQ(d.options["device"], "1-2");

    auto m = round_trip(std::get<control::Request>(ctl_parse({"usb", "remember", "win11", "0781:5581", "never"})));
    EXPECT_EQ(m.verb, control::Request::Verb::UsbRemember);
    EXPECT_EQ(m.guest, "win11");
    EXPECT_EQ(m.options["choice"], "never");
}

TEST(UsbCommandLine, BadUsageIsExplained) {
    EXPECT_TRUE(std::holds_alternative<std::string>(ctl_parse({"usb", "attach", "win11"})));
    EXPECT_TRUE(std::holds_alternative<std::string>(ctl_parse({"usb", "detach"})));
    EXPECT_TRUE(std::holds_alternative<std::string>(ctl_parse({"usb", "remember", "win11", "1-2", "sometimes"})));
    EXPECT_TRUE(std::holds_alternative<std::string>(ctl_parse({"usb", "eat"})));
    EXPECT_TRUE(std::holds_alternative<std::string>(ctl_parse({"usb", "--loud"})));
    char program[] = "phyllomectl", verb[] = "status";
    char* argv[] = {program, verb};
    EXPECT_FALSE(ctl::parse_usb_command(2, argv).has_value());
}

TEST(UsbWire, MalformedRequestsAreRefused) {
    EXPECT_TRUE(std::holds_alternative<std::string>(control::parse_request("usb-attach win11")));
    EXPECT_TRUE(std::holds_alternative<std::string>(control::parse_request("usb-attach device=1-2")));
    EXPECT_TRUE(std::holds_alternative<std::string>(control::parse_request("usb-remember device=1-2 win11")));
    EXPECT_TRUE(std::holds_alternative<std::string>(control::parse_request("usb --yaml")));
    EXPECT_TRUE(std::holds_alternative<control::Request>(control::parse_request("usb-detach device=1-2")));
}

UsbEntry entry() {
    UsbEntry e;
    e.device.sysname = "1-2";
    e.device.bus = 1;
    e.device.address = 5;
    e.device.vendor = 0x0781;
    e.device.product = 0x5581;
    e.device.vendor_name = "SanDisk";
    e.device.product_name = "Ultra \"Fit\"";
    e.device.kinds = guestview::usb::Storage | guestview::usb::Keyboard;
    e.owner = "win11";
    e.policy = "always win11";
    e.offered = true;
    return e;
}

TEST(UsbStatus, JsonNamesEveryField) {
    const std::string j = usb_json({entry()});
    EXPECT_EQ(j, "[{\"device\": \"1-2\", \"id\": \"0781:5581\", \"serial\": null, \"name\": \"SanDisk Ultra \\\"Fit\\\"\", "
                 "\"kinds\": [\"keyboard\", \"storage\"], \"bus\": 1, \"address\": 5, \"seat\": \"seat0\", "
                 "\"owner\": \"win11\", \"busy\": null, \"policy\": \"always win11\", \"offered\": true}]");
    EXPECT_EQ(usb_json({}), "[]");
}

TEST(UsbStatus, TextSaysWhoHasEach) {
    const std::string t = usb_text({entry()}, "");
    EXPECT_NE(t.find("1-2"), std::string::npos);
    EXPECT_NE(t.find("0781:5581"), std::string::npos);
    EXPECT_NE(t.find("win11"), std::string::npos);
    EXPECT_NE(t.find("always win11"), std::string::npos);
    EXPECT_EQ(usb_text({}, ""), "no USB devices plugged in\n");
    EXPECT_EQ(usb_text({}, "udev: no"), "USB devices are not watched: udev: no\n");
}

} // namespace
} // namespace phyllome::compositor
