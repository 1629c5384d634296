#include "guestview/usb/usb_policy.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace phyllome::guestview::usb {
namespace {

std::string lower(std::string_view text) {
    std::string result(text);
    std::transform(result.begin(), result.end(), result.begin(),
                   [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; });
    return result;
}

std::string rule_label(const UsbMatch& match) {
    return match.serial.empty() ? fmt::format("[usb] rule {}", match.id)
                                : fmt::format("[usb] rule {} serial {}", match.id, match.serial);
}

const UsbGuest* find_guest(const std::vector<UsbGuest>& running, std::string_view name) {
    auto it = std::find_if(running.begin(), running.end(), [&](const UsbGuest& guest) { return guest.name == name; });
    return it == running.end() ? nullptr : &*it;
}

// The guest's remembered choice for the device, if any; the first that matches counts.
const UsbChoice* find_choice(const UsbGuest& guest, const UsbDevice& device) {
    auto it = std::find_if(guest.choices.begin(), guest.choices.end(),
                           [&](const UsbChoice& choice) { return choice.match.matches(device); });
    return it == guest.choices.end() ? nullptr : &*it;
}

const UsbRule* find_never_rule(const UsbPolicy& policy, const UsbDevice& device) {
    auto it = std::find_if(policy.rules.begin(), policy.rules.end(),
                           [&](const UsbRule& rule) { return rule.never && rule.match.matches(device); });
    return it == policy.rules.end() ? nullptr : &*it;
}

// An attach the ask-first guard turned into a question, so the log says what was held back.
std::string held_back(const UsbPolicy& policy, const UsbDevice& device, std::string_view instead_of) {
    return fmt::format("{} is asked first ([usb] ask_first), not given as {} says",
                       describe_kinds(device.kinds & policy.ask_first), instead_of);
}

} // namespace

bool UsbMatch::matches(const UsbDevice& device) const {
    return lower(id) == device.id() && (serial.empty() || serial == device.serial);
}

UsbDecision decide(const UsbPolicy& policy, const UsbDevice& device, std::string_view shown,
                   const std::vector<UsbGuest>& running) {
    using Kind = UsbDecision::Kind;
    if (const UsbRule* rule = find_never_rule(policy, device))
        return {Kind::Never, {}, rule_label(rule->match)};

    const bool ask_first = (device.kinds & policy.ask_first) != 0;
    std::string guarded; // why an attach was not done, for the Ask's explanation
    for (const UsbRule& rule : policy.rules) {
        if (rule.always.empty() || !rule.match.matches(device) || !find_guest(running, rule.always))
            continue;
        if (!ask_first)
            return {Kind::Attach, rule.always, rule_label(rule.match)};
        guarded = held_back(policy, device, rule_label(rule.match));
        break;
    }

    // The shown guest's memory first, then the others' in their order.
    std::vector<const UsbGuest*> order;
    if (const UsbGuest* shown_guest = find_guest(running, shown))
        order.push_back(shown_guest);
    for (const UsbGuest& guest : running)
        if (guest.name != shown)
            order.push_back(&guest);
    if (guarded.empty()) {
        for (const UsbGuest* guest : order) {
            const UsbChoice* choice = find_choice(*guest, device);
            if (!choice || !choice->always)
                continue;
            std::string why = fmt::format("{} remembers it", guest->name);
            if (!ask_first)
                return {Kind::Attach, guest->name, why};
            guarded = held_back(policy, device, why);
            break;
        }
    }

    if (shown.empty())
        return {Kind::Leave, {}, guarded.empty() ? "no guest is shown" : guarded};
    if (const UsbGuest* shown_guest = find_guest(running, shown)) {
        const UsbChoice* choice = find_choice(*shown_guest, device);
        if (choice && !choice->always)
            return {Kind::Leave, {}, fmt::format("{} remembers never", shown)};
    }
    if (ask_first)
        return {Kind::Ask, std::string(shown),
                guarded.empty() ? fmt::format("{} is asked first ([usb] ask_first)",
                                              describe_kinds(device.kinds & policy.ask_first))
                                : guarded};
    return {Kind::Offer, std::string(shown), "plugged in"};
}

std::string refusal(const UsbPolicy& policy, const UsbDevice& device) {
    if (find_never_rule(policy, device))
        return fmt::format("a [usb] rule says never for {}", device.name());
    return {};
}

} // namespace phyllome::guestview::usb
