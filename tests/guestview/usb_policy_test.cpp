// decide() and refusal(): every rule of the order in usb_policy.hpp, one case each.
#include <algorithm>

#include <gtest/gtest.h>

#include "config/config.hpp"
#include "guestview/usb/usb_policy.hpp"
#include "guestview/usb/usb_policy_config.hpp"

namespace phyllome::guestview::usb {
namespace {

using Kind = UsbDecision::Kind;

UsbDevice disk(std::string serial = "AA01") {
    return UsbDevice{.sysname = "1-1", .bus = 1, .address = 4, .vendor = 0x0781, .product = 0x5581,
                     .serial = std::move(serial), .vendor_name = "SanDisk", .product_name = "Ultra", .kinds = Storage};
}

UsbDevice keyboard() {
    return UsbDevice{.sysname = "1-2", .bus = 1, .address = 5, .vendor = 0x046d, .product = 0xc31c,
                     .vendor_name = "Logitech", .product_name = "Keyboard K120", .kinds = Keyboard};
}

UsbRule always(std::string id, std::string guest, std::string serial = {}) {
    return UsbRule{.match = {std::move(id), std::move(serial)}, .always = std::move(guest)};
}

UsbRule never(std::string id, std::string serial = {}) {
    return UsbRule{.match = {std::move(id), std::move(serial)}, .never = true};
}

UsbChoice remembered(std::string id, bool always_choice) {
    return UsbChoice{.match = {std::move(id), {}}, .always = always_choice};
}

TEST(UsbPolicyTest, WithoutRulesThePlugIsOfferedToTheShownGuest) {
    UsbDecision decision = decide({}, disk(), "win11", {{"win11", {}}});
    EXPECT_EQ(decision.kind, Kind::Offer);
    EXPECT_EQ(decision.guest, "win11");
}

TEST(UsbPolicyTest, WithNoGuestShownAndNoRuleNothingHappens) {
    EXPECT_EQ(decide({}, disk(), "", {{"win11", {}}}).kind, Kind::Leave);
}

TEST(UsbPolicyTest, ANeverRuleComesFirst) {
    UsbPolicy policy{.rules = {always("0781:5581", "win11"), never("0781:5581")}};
    UsbDecision decision = decide(policy, disk(), "win11", {{"win11", {remembered("0781:5581", true)}}});
    EXPECT_EQ(decision.kind, Kind::Never);
    EXPECT_NE(decision.why.find("0781:5581"), std::string::npos) << decision.why;
}

TEST(UsbPolicyTest, AnAlwaysRuleAttachesToItsRunningGuestEvenWhenAnotherIsShown) {
    UsbPolicy policy{.rules = {always("0781:5581", "backup")}};
    UsbDecision decision = decide(policy, disk(), "win11", {{"win11", {}}, {"backup", {}}});
    EXPECT_EQ(decision.kind, Kind::Attach);
    EXPECT_EQ(decision.guest, "backup");
    EXPECT_NE(decision.why.find("[usb]"), std::string::npos) << decision.why;
}

TEST(UsbPolicyTest, AnAlwaysRuleForAGuestNotRunningFallsThroughToAnOffer) {
    UsbPolicy policy{.rules = {always("0781:5581", "backup")}};
    UsbDecision decision = decide(policy, disk(), "win11", {{"win11", {}}});
    EXPECT_EQ(decision.kind, Kind::Offer);
    EXPECT_EQ(decision.guest, "win11");
}

TEST(UsbPolicyTest, AnAlwaysRuleBeatsARememberedChoice) {
    UsbPolicy policy{.rules = {always("0781:5581", "backup")}};
    UsbDecision decision =
        decide(policy, disk(), "win11", {{"win11", {remembered("0781:5581", true)}}, {"backup", {}}});
    EXPECT_EQ(decision.kind, Kind::Attach);
    EXPECT_EQ(decision.guest, "backup");
}

TEST(UsbPolicyTest, ARememberedAlwaysAttachesTheShownGuestFirst) {
    std::vector<UsbGuest> running{{"fedora", {remembered("0781:5581", true)}},
                                  {"win11", {remembered("0781:5581", true)}}};
    UsbDecision decision = decide({}, disk(), "win11", running);
    EXPECT_EQ(decision.kind, Kind::Attach);
    EXPECT_EQ(decision.guest, "win11");
    EXPECT_EQ(decision.why, "win11 remembers it");
}

TEST(UsbPolicyTest, ARunningGuestThatIsNotShownGetsWhatItRemembers) {
    UsbDecision decision = decide({}, disk(), "", {{"win11", {}}, {"fedora", {remembered("0781:5581", true)}}});
    EXPECT_EQ(decision.kind, Kind::Attach);
    EXPECT_EQ(decision.guest, "fedora");
}

TEST(UsbPolicyTest, TheShownGuestRememberingNeverGetsNoOffer) {
    UsbDecision decision = decide({}, disk(), "win11", {{"win11", {remembered("0781:5581", false)}}});
    EXPECT_EQ(decision.kind, Kind::Leave);
    EXPECT_EQ(decision.why, "win11 remembers never");
}

TEST(UsbPolicyTest, AnotherGuestRememberingNeverDoesNotStopTheOffer) {
    UsbDecision decision =
        decide({}, disk(), "win11", {{"win11", {}}, {"fedora", {remembered("0781:5581", false)}}});
    EXPECT_EQ(decision.kind, Kind::Offer);
}

TEST(UsbPolicyTest, AskFirstKindsAreAskedNotOffered) {
    UsbDecision decision = decide({}, keyboard(), "win11", {{"win11", {}}});
    EXPECT_EQ(decision.kind, Kind::Ask);
    EXPECT_EQ(decision.guest, "win11");
}

TEST(UsbPolicyTest, AnAlwaysRuleForAKeyboardAsksInstead) {
    UsbPolicy policy{.rules = {always("046d:c31c", "win11")}};
    UsbDecision decision = decide(policy, keyboard(), "win11", {{"win11", {}}});
    EXPECT_EQ(decision.kind, Kind::Ask);
    EXPECT_EQ(decision.guest, "win11");
    EXPECT_NE(decision.why.find("ask_first"), std::string::npos) << decision.why;
}

TEST(UsbPolicyTest, ARememberedAlwaysForAKeyboardAsksInstead) {
    UsbDecision decision = decide({}, keyboard(), "win11", {{"win11", {remembered("046d:c31c", true)}}});
    EXPECT_EQ(decision.kind, Kind::Ask);
    UsbDecision hidden = decide({}, keyboard(), "", {{"win11", {remembered("046d:c31c", true)}}});
    EXPECT_EQ(hidden.kind, Kind::Leave);
}

TEST(UsbPolicyTest, AnEmptyAskFirstLetsRulesAttachKeyboards) {
    UsbPolicy policy{.ask_first = 0, .rules = {always("046d:c31c", "win11")}};
    EXPECT_EQ(decide(policy, keyboard(), "", {{"win11", {}}}).kind, Kind::Attach);
    EXPECT_EQ(decide({.ask_first = 0}, keyboard(), "win11", {{"win11", {}}}).kind, Kind::Offer);
}

TEST(UsbPolicyTest, ANeverRuleStopsAKeyboardToo) {
    UsbPolicy policy{.rules = {never("046d:c31c")}};
    EXPECT_EQ(decide(policy, keyboard(), "win11", {{"win11", {}}}).kind, Kind::Never);
}

TEST(UsbPolicyTest, ARuleWithASerialMatchesOnlyThatDevice) {
    UsbPolicy policy{.rules = {never("0781:5581", "AA01")}};
    EXPECT_EQ(decide(policy, disk("AA01"), "win11", {{"win11", {}}}).kind, Kind::Never);
    EXPECT_EQ(decide(policy, disk("BB02"), "win11", {{"win11", {}}}).kind, Kind::Offer);
    EXPECT_EQ(decide(policy, disk(""), "win11", {{"win11", {}}}).kind, Kind::Offer);
}

TEST(UsbPolicyTest, MatchingIgnoresTheIdsCase) {
    EXPECT_TRUE((UsbMatch{"0781:5581", ""}.matches(disk())));
    EXPECT_TRUE((UsbMatch{"0781:5581", "AA01"}.matches(disk())));
    EXPECT_FALSE((UsbMatch{"0781:5582", ""}.matches(disk())));
    EXPECT_TRUE((UsbMatch{"046D:C31C", ""}.matches(keyboard())));
}

TEST(UsbPolicyTest, RefusalNamesANeverRuleAndOnlyThat) {
    UsbPolicy policy{.rules = {never("0781:5581")}};
    EXPECT_EQ(refusal(policy, disk()), "a [usb] rule says never for SanDisk Ultra");
    EXPECT_EQ(refusal(policy, keyboard()), "");
    EXPECT_EQ(refusal({}, disk()), "");
    UsbPolicy with_serial{.rules = {never("0781:5581", "ZZ")}};
    EXPECT_EQ(refusal(with_serial, disk()), "");
}

TEST(UsbPolicyTest, TheConfigsDefaultsAskFirstForKeyboardsAndMice) {
    EXPECT_EQ(policy_from_config(config::UsbConfig{}).ask_first, UsbPolicy{}.ask_first);
    EXPECT_TRUE(policy_from_config(config::UsbConfig{}).rules.empty());
}

TEST(UsbPolicyTest, TheConfigsRulesAndKindsCarryOver) {
    config::UsbConfig usb;
    usb.ask_first = {"storage", "hid"};
    usb.devices = {{"0781:5581", "AA01", "win11", false}, {"1050:0407", "", "", true}};
    UsbPolicy policy = policy_from_config(usb);
    EXPECT_EQ(policy.ask_first, Storage | OtherHid);
    std::vector<UsbRule> expected{always("0781:5581", "win11", "AA01"), never("1050:0407")};
    EXPECT_EQ(policy.rules, expected);
    // Every name the config accepts is a kind.
    for (const std::string& name : config::usb_kind_names())
        EXPECT_TRUE(usb_kind_from_string(name).has_value()) << name;
    EXPECT_EQ(config::usb_kind_names().size(), 10u);
}

} // namespace
} // namespace phyllome::guestview::usb
