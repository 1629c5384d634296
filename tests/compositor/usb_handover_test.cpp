// Who holds which host USB device (compositor/usb_handover.hpp): offers, Host+U, the policy on
// plug and on a guest's start, giving back on stop and unplug, the ask-first guard.
#include <gtest/gtest.h>

#include "compositor/usb_handover.hpp"

namespace phyllome::compositor {
namespace {

namespace usb = guestview::usb;
using Kind = UsbAction::Kind;

usb::UsbDevice stick() {
    usb::UsbDevice d;
    d.sysname = "1-2";
    d.bus = 1;
    d.address = 5;
    d.vendor = 0x0781;
    d.product = 0x5581;
    d.serial = "4C530001";
    d.vendor_name = "SanDisk";
    d.product_name = "Ultra";
    d.kinds = usb::Storage;
    return d;
}

usb::UsbDevice keyboard() {
    usb::UsbDevice d;
    d.sysname = "1-3";
    d.bus = 1;
    d.address = 6;
    d.vendor = 0x046d;
    d.product = 0xc31c;
    d.vendor_name = "Logitech";
    d.product_name = "K120";
    d.kinds = usb::Keyboard;
    return d;
}

guestview::GuestInfo guest(std::string name, bool running, int id = 1) {
    guestview::GuestInfo g;
    g.name = std::move(name);
    g.state = running ? guestview::GuestState::Running : guestview::GuestState::ShutOff;
    g.domain_id = running ? id : -1;
    return g;
}

void give_to(guestview::GuestInfo& g, const usb::UsbDevice& d) {
    g.usb_devices.push_back(guestview::UsbHostdev{d.vendor, d.product, d.bus, d.address});
}

const UsbAction* find(const UsbHandover::Actions& actions, Kind kind) {
    for (const auto& a : actions)
        if (a.kind == kind)
            return &a;
    return nullptr;
}

struct UsbHandoverTest : ::testing::Test {
    std::vector<usb::UsbDevice> devices{stick()};
    std::vector<guestview::GuestInfo> guests{guest("win11", true, 3), guest("fedora", true, 4)};
    UsbHandover handover{usb::UsbPolicy{}, "Super+U"};
    UsbWorld world(std::string shown = "win11") { return UsbWorld{devices, guests, std::move(shown)}; }
    UsbHandover::Clock::time_point t0 = UsbHandover::Clock::now();
};

TEST_F(UsbHandoverTest, PluggedWhileAGuestIsShownIsOfferedWithTheChord) {
    auto actions = handover.plugged(stick(), world());
    ASSERT_EQ(actions.size(), 1u);
    EXPECT_EQ(actions[0].kind, Kind::Notice);
    EXPECT_EQ(actions[0].guest, "win11");
    EXPECT_EQ(actions[0].text, "SanDisk Ultra plugged in — Super+U gives it to win11");
    EXPECT_FALSE(actions[0].error);
    EXPECT_EQ(handover.offered(), "1-2");
    EXPECT_EQ(handover.owner(stick(), world()), "");
}

TEST_F(UsbHandoverTest, TheChordGivesItThenTakesItBack) {
    handover.plugged(stick(), world());
    auto give = handover.chord(world(), t0);
    ASSERT_EQ(give.size(), 1u);
    EXPECT_EQ(give[0].kind, Kind::Attach);
    EXPECT_EQ(give[0].guest, "win11");
    EXPECT_EQ(give[0].device, stick());
    EXPECT_EQ(handover.busy(stick()), "giving");
    EXPECT_EQ(handover.owner(stick(), world()), "win11"); // on its way
    // A second chord while libvirt works changes nothing.
    auto again = handover.chord(world(), t0);
    ASSERT_EQ(again.size(), 1u);
    EXPECT_EQ(again[0].kind, Kind::Notice);
    EXPECT_EQ(again[0].text, "SanDisk Ultra: still giving it");

    give_to(guests[0], stick());
    auto done = handover.attach_done("win11", stick(), true, "");
    ASSERT_EQ(done.size(), 1u);
    EXPECT_EQ(done[0].text, "SanDisk Ultra is win11's now — Super+U takes it back");
    EXPECT_EQ(handover.busy(stick()), "");
    EXPECT_TRUE(handover.guests_changed(world()).empty()); // nothing new to say

    auto back = handover.chord(world(), t0);
    ASSERT_EQ(back.size(), 1u);
    EXPECT_EQ(back[0].kind, Kind::Detach);
    EXPECT_EQ(back[0].guest, "win11");
    guests[0].usb_devices.clear();
    auto back_done = handover.detach_done("win11", stick(), true, "", world());
    ASSERT_EQ(back_done.size(), 1u);
    EXPECT_EQ(back_done[0].text, "SanDisk Ultra is back with this computer");
    EXPECT_TRUE(handover.guests_changed(world()).empty()); // no second notice for the same change
}

TEST_F(UsbHandoverTest, AFailedGiveSaysWhyAndChangesNothing) {
    handover.plugged(stick(), world());
    handover.chord(world(), t0);
    const std::string error = "cannot give USB device 0781:5581 (bus 1 device 5) to guest 'win11': it is no longer "
                              "plugged in: plug it in again (libvirt: internal error: Did not find USB device 781:5581)";
    auto done = handover.attach_done("win11", stick(), false, error);
    ASSERT_EQ(done.size(), 1u);
    EXPECT_TRUE(done[0].error);
    EXPECT_EQ(done[0].text, "win11 could not take SanDisk Ultra: " + error);
    EXPECT_EQ(done[0].banner, "win11 could not take SanDisk Ultra: it is no longer plugged in: plug it in again");
    EXPECT_EQ(handover.owner(stick(), world()), "");
    EXPECT_EQ(handover.busy(stick()), "");
}

TEST_F(UsbHandoverTest, UnpluggedWhileAGuestHasItIsTakenBackQuietly) {
    give_to(guests[1], stick());
    handover.guests_changed(world());
    auto actions = handover.unplugged(stick(), world());
    const UsbAction* detach = find(actions, Kind::Detach);
    ASSERT_NE(detach, nullptr);
    EXPECT_EQ(detach->guest, "fedora");
    const UsbAction* notice = find(actions, Kind::Notice);
    ASSERT_NE(notice, nullptr);
    EXPECT_EQ(notice->text, "SanDisk Ultra unplugged: fedora no longer has it");
    devices.clear();
    guests[1].usb_devices.clear();
    // libvirt may already have dropped it: either way, nothing more to tell.
    EXPECT_TRUE(handover.detach_done("fedora", stick(), false, "device not found", world()).empty());
    EXPECT_EQ(handover.offered(), "");
}

TEST_F(UsbHandoverTest, AGuestThatStopsGivesItsDevicesBack) {
    give_to(guests[0], stick());
    EXPECT_TRUE(handover.guests_changed(world()).empty());
    guests[0] = guest("win11", false);
    auto actions = handover.guests_changed(world(""));
    ASSERT_EQ(actions.size(), 1u);
    EXPECT_EQ(actions[0].text, "SanDisk Ultra is back with this computer: win11 stopped");
    EXPECT_TRUE(handover.guests_changed(world("")).empty());
}

TEST_F(UsbHandoverTest, AnAlwaysRuleGivesItOnSightToARunningGuestNotShown) {
    usb::UsbPolicy policy;
    policy.rules.push_back(usb::UsbRule{usb::UsbMatch{"0781:5581", ""}, "fedora", false});
    handover.set_policy(policy, "Super+U");
    auto actions = handover.plugged(stick(), world("win11"));
    ASSERT_EQ(actions.size(), 1u);
    EXPECT_EQ(actions[0].kind, Kind::Attach);
    EXPECT_EQ(actions[0].guest, "fedora");
    give_to(guests[1], stick());
    auto done = handover.attach_done("fedora", stick(), true, "");
    ASSERT_EQ(done.size(), 1u);
    EXPECT_NE(done[0].text.find("SanDisk Ultra is fedora's now"), std::string::npos) << done[0].text;
    EXPECT_EQ(handover.policy_note(stick()), "always fedora");
}

TEST_F(UsbHandoverTest, AnAlwaysRuleGivesItWhenTheGuestStartsOncePerStart) {
    usb::UsbPolicy policy;
    policy.rules.push_back(usb::UsbRule{usb::UsbMatch{"0781:5581", "4C530001"}, "fedora", false});
    handover.set_policy(policy, "Super+U");
    guests[1] = guest("fedora", false);
    EXPECT_TRUE(handover.guests_changed(world("")).empty());
    guests[1] = guest("fedora", true, 7);
    auto actions = handover.guests_changed(world(""));
    ASSERT_EQ(actions.size(), 1u);
    EXPECT_EQ(actions[0].kind, Kind::Attach);
    EXPECT_EQ(actions[0].guest, "fedora");
    handover.attach_done("fedora", stick(), false, "device busy");
    // The same start is not tried again on every change of the guest list.
    EXPECT_TRUE(handover.guests_changed(world("")).empty());
    // The next start is.
    guests[1] = guest("fedora", true, 8);
    auto next = handover.guests_changed(world(""));
    ASSERT_EQ(next.size(), 1u);
    EXPECT_EQ(next[0].kind, Kind::Attach);
}

TEST_F(UsbHandoverTest, ARememberedChoiceGivesItWhenTheGuestStarts) {
    guests[1] = guest("fedora", false);
    handover.guests_changed(world(""));
    guests[1] = guest("fedora", true, 9);
    guests[1].usb_choices.push_back(usb::UsbChoice{usb::UsbMatch{"0781:5581", ""}, true});
    auto actions = handover.guests_changed(world(""));
    ASSERT_EQ(actions.size(), 1u);
    EXPECT_EQ(actions[0].kind, Kind::Attach);
    EXPECT_EQ(actions[0].guest, "fedora");
}

TEST_F(UsbHandoverTest, ANeverRuleKeepsItWithTheHostEvenOnTheChord) {
    usb::UsbPolicy policy;
    policy.rules.push_back(usb::UsbRule{usb::UsbMatch{"0781:5581", ""}, "", true});
    handover.set_policy(policy, "Super+U");
    auto plugged = handover.plugged(stick(), world());
    ASSERT_EQ(plugged.size(), 1u);
    EXPECT_EQ(plugged[0].kind, Kind::Notice);
    EXPECT_EQ(plugged[0].guest, ""); // not over the guest: nothing to act on
    auto chord = handover.chord(world(), t0);
    ASSERT_EQ(chord.size(), 1u);
    EXPECT_EQ(chord[0].kind, Kind::Notice);
    EXPECT_TRUE(chord[0].error);
    EXPECT_EQ(handover.policy_note(stick()), "never");
}

TEST_F(UsbHandoverTest, AKeyboardNeedsTheChordTwiceWithinTheWindow) {
    devices.push_back(keyboard());
    auto plugged = handover.plugged(keyboard(), world());
    ASSERT_EQ(plugged.size(), 1u);
    EXPECT_NE(plugged[0].text.find("it stays with this computer"), std::string::npos) << plugged[0].text;
    auto first = handover.chord(world(), t0);
    ASSERT_EQ(first.size(), 1u);
    EXPECT_EQ(first[0].kind, Kind::Notice);
    EXPECT_NE(first[0].text.find("Super+U again gives it"), std::string::npos) << first[0].text;
    // Too late: asks again.
    auto late = handover.chord(world(), t0 + UsbHandover::confirm_window + std::chrono::seconds(1));
    ASSERT_EQ(late.size(), 1u);
    EXPECT_EQ(late[0].kind, Kind::Notice);
    auto second = handover.chord(world(), t0 + UsbHandover::confirm_window + std::chrono::seconds(2));
    ASSERT_EQ(second.size(), 1u);
    EXPECT_EQ(second[0].kind, Kind::Attach);
    EXPECT_EQ(second[0].device, keyboard());
}

TEST_F(UsbHandoverTest, AnAlwaysRuleNeverGivesAKeyboardWithoutAsking) {
    usb::UsbPolicy policy;
    policy.rules.push_back(usb::UsbRule{usb::UsbMatch{"046d:c31c", ""}, "win11", false});
    handover.set_policy(policy, "Super+U");
    devices.push_back(keyboard());
    auto plugged = handover.plugged(keyboard(), world("fedora"));
    EXPECT_EQ(find(plugged, Kind::Attach), nullptr);
    EXPECT_EQ(handover.policy_note(keyboard()), "ask first");
}

TEST_F(UsbHandoverTest, TheChordMovesADeviceFromAnotherGuest) {
    give_to(guests[1], stick());
    handover.guests_changed(world());
    handover.offer("1-2");
    auto actions = handover.chord(world("win11"), t0);
    ASSERT_EQ(actions.size(), 1u);
    EXPECT_EQ(actions[0].kind, Kind::Detach);
    EXPECT_EQ(actions[0].guest, "fedora");
    guests[1].usb_devices.clear();
    auto then = handover.detach_done("fedora", stick(), true, "", world("win11"));
    ASSERT_EQ(then.size(), 1u);
    EXPECT_EQ(then[0].kind, Kind::Attach);
    EXPECT_EQ(then[0].guest, "win11");
}

TEST_F(UsbHandoverTest, GiveChecksTheGuestAndTheGuard) {
    devices.push_back(keyboard());
    guests.push_back(guest("off", false));
    auto off = handover.give(stick(), "off", world(), false);
    ASSERT_EQ(off.size(), 1u);
    EXPECT_TRUE(off[0].error);
    EXPECT_EQ(off[0].text, "off is shut off: start it first, then give it SanDisk Ultra");
    auto unknown = handover.give(stick(), "nobody", world(), false);
    ASSERT_EQ(unknown.size(), 1u);
    EXPECT_TRUE(unknown[0].error);
    auto kb = handover.give(keyboard(), "win11", world(), false);
    ASSERT_EQ(kb.size(), 1u);
    EXPECT_TRUE(kb[0].error);
    EXPECT_NE(kb[0].text.find("--force"), std::string::npos);
    auto forced = handover.give(keyboard(), "win11", world(), true);
    ASSERT_EQ(forced.size(), 1u);
    EXPECT_EQ(forced[0].kind, Kind::Attach);
}

TEST_F(UsbHandoverTest, UnpluggedWhileBeingGivenIsTakenBackWhenTheGiveLands) {
    handover.plugged(stick(), world());
    handover.chord(world(), t0);
    auto unplugged = handover.unplugged(stick(), world());
    EXPECT_EQ(find(unplugged, Kind::Detach), nullptr); // the call is still under way
    devices.clear();
    give_to(guests[0], stick());
    auto done = handover.attach_done("win11", stick(), true, "");
    ASSERT_EQ(done.size(), 1u);
    EXPECT_EQ(done[0].kind, Kind::Detach);
    EXPECT_TRUE(handover.attach_done("win11", stick(), false, "gone").empty());
}

TEST_F(UsbHandoverTest, TheChordWithNothingPluggedSaysSo) {
    devices.clear();
    auto actions = handover.chord(world(), t0);
    ASSERT_EQ(actions.size(), 1u);
    EXPECT_EQ(actions[0].text, "No USB device to give: plug one in");
    auto overlay = handover.chord(world(""), t0);
    ASSERT_EQ(overlay.size(), 1u);
    EXPECT_NE(overlay[0].text.find("show one first"), std::string::npos);
}

TEST_F(UsbHandoverTest, TheChordTakesBackTheShownGuestsDeviceWhenNothingIsOffered) {
    give_to(guests[0], stick());
    auto actions = handover.chord(world(), t0);
    ASSERT_EQ(actions.size(), 1u);
    EXPECT_EQ(actions[0].kind, Kind::Detach);
    EXPECT_EQ(actions[0].guest, "win11");
}

TEST(UsbDeviceLookup, BySysnameIdSerialOrName) {
    std::vector<usb::UsbDevice> devices{stick(), keyboard()};
    EXPECT_EQ(find_usb_device(devices, "1-3"), &devices[1]);
    EXPECT_EQ(find_usb_device(devices, "0781:5581"), &devices[0]);
    EXPECT_EQ(find_usb_device(devices, "046D:C31C"), &devices[1]);
    EXPECT_EQ(find_usb_device(devices, "4C530001"), &devices[0]);
    EXPECT_EQ(find_usb_device(devices, "logitech k120"), &devices[1]);
    EXPECT_EQ(find_usb_device(devices, "1-9"), nullptr);
    EXPECT_EQ(find_usb_device(devices, "dead:beef"), nullptr);
}

TEST(UsbChoices, ReplaceAndForget) {
    const usb::UsbMatch a{"0781:5581", ""}, b{"0781:5581", "4C530001"};
    auto choices = with_choice({}, a, UsbRemember::Always);
    ASSERT_EQ(choices.size(), 1u);
    EXPECT_TRUE(choices[0].always);
    choices = with_choice(choices, a, UsbRemember::Never);
    ASSERT_EQ(choices.size(), 1u);
    EXPECT_FALSE(choices[0].always);
    choices = with_choice(choices, b, UsbRemember::Always);
    EXPECT_EQ(choices.size(), 2u);
    choices = with_choice(choices, a, UsbRemember::Forget);
    ASSERT_EQ(choices.size(), 1u);
    EXPECT_EQ(choices[0].match, b);
}

} // namespace
} // namespace phyllome::compositor
