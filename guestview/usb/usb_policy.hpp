// What the shell does with a USB device when it appears or a guest starts: the config's
// [usb] rules, then the guests' remembered choices, then the ask-first guard. Pure: no udev,
// no libvirt, so every case is a unit test.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "guestview/usb/usb_device.hpp"

namespace phyllome::guestview::usb {

// Matches by id ("0781:5581") and, when `serial` is set, the serial too.
struct UsbMatch {
    std::string id;
    std::string serial;
    bool matches(const UsbDevice& device) const;
    bool operator==(const UsbMatch&) const = default;
};

// A [[usb.device]] table of the config.
struct UsbRule {
    UsbMatch match;
    std::string always; // a guest's name: given to it on sight while it runs
    bool never = false; // never given to any guest, not even by Host+U
    bool operator==(const UsbRule&) const = default;
};

// A guest's own remembered choice, kept in its libvirt metadata (<phyllome:usb>).
struct UsbChoice {
    UsbMatch match;
    bool always = true; // false: never offered to this guest
    bool operator==(const UsbChoice&) const = default;
};

struct UsbPolicy {
    UsbKinds ask_first = Keyboard | Mouse; // never given by a rule or a choice; Host+U asks twice
    std::vector<UsbRule> rules;
};

// A running guest as the policy sees it.
struct UsbGuest {
    std::string name;
    std::vector<UsbChoice> choices;
};

struct UsbDecision {
    enum class Kind {
        Offer,  // show the notice: Host+U gives it to the shown guest
        Attach, // give it to `guest` now, without asking
        Never,  // a rule says never: neither offered nor given
        Ask,    // ask_first kinds: offered with a warning, and Host+U must be pressed twice
        Leave,  // nothing to do (no guest shown and no rule for a running guest)
    };
    Kind kind = Kind::Leave;
    std::string guest; // Attach: to whom; Offer/Ask: the shown guest
    std::string why;   // for the log and the notice: "[usb] rule 0781:5581", "win11 remembers it"
};

// A device appeared (plugged, or present when `running` changed). `shown` is the guest on
// screen, empty when the overlay is. Order: a never rule; an always rule naming a running guest;
// a running guest's remembered always (the shown guest first); then Ask/Offer for the shown
// guest unless it remembers never. ask_first kinds are never attached without asking.
UsbDecision decide(const UsbPolicy& policy, const UsbDevice& device, std::string_view shown,
                   const std::vector<UsbGuest>& running);

// Whether Host+U may give `device` to `guest` at all; empty when it may, else why not
// ("a [usb] rule says never for SanDisk Ultra").
std::string refusal(const UsbPolicy& policy, const UsbDevice& device);

} // namespace phyllome::guestview::usb
