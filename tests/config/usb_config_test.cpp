// The [usb] section: key, ask_first and the [[usb.device]] rules, with their errors.
#include <gtest/gtest.h>

#include "config/config.hpp"
#include "tests/config/diagnostics_helpers.hpp"

namespace phyllome::config {
namespace {

using test::dump;
using test::errors;

TEST(UsbConfigSection, DefaultsAskFirstForKeyboardsAndMice) {
    UsbConfig usb = parse("").config.usb;
    EXPECT_EQ(usb.key, "u");
    EXPECT_EQ(usb.ask_first, (std::vector<std::string>{"keyboard", "mouse"}));
    EXPECT_TRUE(usb.devices.empty());
}

TEST(UsbConfigSection, ReadsKeyAskFirstAndDevices) {
    LoadResult result = parse(R"(
[usb]
key = ""
ask_first = ["keyboard", "hid", "keyboard"]

[[usb.device]]
id = "0781:55AB"
serial = "4C53"
always = "win11"

[[usb.device]]
id = "1050:0407"
never = true
)");
    EXPECT_TRUE(result.diagnostics.empty()) << dump(result);
    const UsbConfig& usb = result.config.usb;
    EXPECT_EQ(usb.key, "");
    EXPECT_EQ(usb.ask_first, (std::vector<std::string>{"keyboard", "hid"}));
    std::vector<UsbDeviceRule> expected{{"0781:55ab", "4C53", "win11", false}, {"1050:0407", "", "", true}};
    EXPECT_EQ(usb.devices, expected);
}

TEST(UsbConfigSection, AnEmptyAskFirstIsAllowed) {
    LoadResult result = parse("[usb]\nask_first = []\n");
    EXPECT_TRUE(result.diagnostics.empty()) << dump(result);
    EXPECT_TRUE(result.config.usb.ask_first.empty());
}

TEST(UsbConfigSection, AnUnknownKindIsAnErrorNamingTheValidOnesAndKeepsTheDefault) {
    LoadResult result = parse("[usb]\nask_first = [\"keyboard\", \"webcam\"]\n");
    ASSERT_EQ(errors(result).size(), 1u) << dump(result);
    const Diagnostic error = errors(result).front();
    EXPECT_EQ(error.key, "usb.ask_first");
    EXPECT_EQ(error.line, 2);
    for (const std::string& name : usb_kind_names())
        EXPECT_NE(error.message.find("\"" + name + "\""), std::string::npos) << error.message;
    EXPECT_EQ(result.config.usb.ask_first, UsbConfig{}.ask_first);
}

TEST(UsbConfigSection, ABadKeyIsAnError) {
    LoadResult result = parse("[usb]\nkey = \"not a key\"\n");
    ASSERT_EQ(errors(result).size(), 1u) << dump(result);
    EXPECT_EQ(errors(result).front().key, "usb.key");
    EXPECT_EQ(result.config.usb.key, "u");
}

struct BadDevice {
    std::string entry;
    std::string key;     // the diagnostic's key
    std::string message; // part of its message
};

class UsbBadDevice : public ::testing::TestWithParam<BadDevice> {};

TEST_P(UsbBadDevice, IsAnErrorAndTheEntryIsDropped) {
    LoadResult result = parse("[[usb.device]]\nid = \"1050:0407\"\nnever = true\n\n[[usb.device]]\n" +
                              GetParam().entry + "\n");
    ASSERT_EQ(errors(result).size(), 1u) << dump(result);
    EXPECT_EQ(errors(result).front().key, GetParam().key) << dump(result);
    EXPECT_NE(errors(result).front().message.find(GetParam().message), std::string::npos) << dump(result);
    ASSERT_EQ(result.config.usb.devices.size(), 1u);
    EXPECT_EQ(result.config.usb.devices.front().id, "1050:0407");
}

INSTANTIATE_TEST_SUITE_P(
    Entries, UsbBadDevice,
    ::testing::Values(BadDevice{"always = \"win11\"", "usb.device[1].id", "needs the device's id"},
                      BadDevice{"id = \"0781\"\nalways = \"win11\"", "usb.device[1].id", "\"0781:5581\""},
                      BadDevice{"id = \"0781:558g\"\nnever = true", "usb.device[1].id", "USB id"},
                      BadDevice{"id = 781\nnever = true", "usb.device[1].id", "USB id"},
                      BadDevice{"id = \"0781:5581\"", "usb.device[1].always", "always = \"GUEST\" or never = true"},
                      BadDevice{"id = \"0781:5581\"\nnever = false", "usb.device[1].always", "or never = true"},
                      BadDevice{"id = \"0781:5581\"\nalways = \"win11\"\nnever = true", "usb.device[1].never",
                                "not both"},
                      BadDevice{"id = \"0781:5581\"\nalways = \"\"", "usb.device[1].always", "must be"},
                      BadDevice{"id = \"0781:5581\"\nnever = \"yes\"", "usb.device[1].never", "true or false"}));

TEST(UsbConfigSection, AnUnknownKeyInADeviceIsAWarningAndTheEntryKept) {
    LoadResult result = parse("[[usb.device]]\nid = \"0781:5581\"\nnever = true\nserail = \"x\"\n");
    EXPECT_TRUE(errors(result).empty()) << dump(result);
    ASSERT_EQ(result.diagnostics.size(), 1u) << dump(result);
    EXPECT_EQ(result.diagnostics.front().key, "usb.device[0].serail");
    EXPECT_NE(result.diagnostics.front().message.find("serial"), std::string::npos);
    EXPECT_EQ(result.config.usb.devices.size(), 1u);
}

TEST(UsbConfigSection, DeviceMustBeAListOfTables) {
    LoadResult result = parse("[usb]\ndevice = \"0781:5581\"\n");
    ASSERT_EQ(errors(result).size(), 1u) << dump(result);
    EXPECT_EQ(errors(result).front().key, "usb.device");
    EXPECT_TRUE(result.config.usb.devices.empty());
}

} // namespace
} // namespace phyllome::config
