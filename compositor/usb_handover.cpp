#include "compositor/usb_handover.hpp"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "guestview/usb_hostdev_errors.hpp"

namespace phyllome::compositor {

namespace usb = guestview::usb;

namespace {

UsbAction notice(std::string guest, std::string text, bool error = false) {
    return UsbAction{.kind = UsbAction::Kind::Notice, .guest = std::move(guest), .text = std::move(text), .error = error};
}

std::vector<usb::UsbGuest> running_guests(const UsbWorld& world) {
    std::vector<usb::UsbGuest> out;
    for (const auto& g : world.guests)
        if (g.state == guestview::GuestState::Running)
            out.push_back(usb::UsbGuest{g.name, g.usb_choices});
    return out;
}

const guestview::GuestInfo* find_guest(const UsbWorld& world, const std::string& name) {
    auto it = std::ranges::find(world.guests, name, &guestview::GuestInfo::name);
    return it == world.guests.end() ? nullptr : &*it;
}

bool holds(const guestview::GuestInfo& guest, const usb::UsbDevice& device) {
    return std::ranges::any_of(guest.usb_devices, [&](const guestview::UsbHostdev& h) {
        if (h.vendor != device.vendor || h.product != device.product)
            return false;
        // A hostdev given by vendor and product alone (defined outside the shell) has no address.
        return (h.bus == 0 && h.address == 0) || (h.bus == device.bus && h.address == device.address);
    });
}

std::string lower(std::string text) {
    std::ranges::transform(text, text.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return text;
}

} // namespace

UsbHandover::UsbHandover(usb::UsbPolicy policy, std::string chord)
    : policy_(std::move(policy)), chord_(std::move(chord)) {}

void UsbHandover::set_policy(usb::UsbPolicy policy, std::string chord) {
    policy_ = std::move(policy);
    chord_ = std::move(chord);
}

std::string UsbHandover::holder(const Device& device, const UsbWorld& world) const {
    for (const auto& g : world.guests)
        if (g.state == guestview::GuestState::Running || g.state == guestview::GuestState::Paused)
            if (holds(g, device))
                return g.name;
    return {};
}

std::string UsbHandover::owner(const Device& device, const UsbWorld& world) const {
    std::string h = holder(device, world);
    if (!h.empty())
        return h;
    auto it = pending_.find(device.sysname);
    return it != pending_.end() && it->second.attach ? it->second.guest : std::string();
}

std::string UsbHandover::busy(const Device& device) const {
    auto it = pending_.find(device.sysname);
    if (it == pending_.end())
        return {};
    return it->second.attach ? "giving" : "taking back";
}

std::string UsbHandover::policy_note(const Device& device) const {
    if (!usb::refusal(policy_, device).empty())
        return "never";
    for (const auto& rule : policy_.rules)
        if (rule.match.matches(device) && !rule.always.empty())
            return (device.kinds & policy_.ask_first) ? "ask first" : "always " + rule.always;
    return (device.kinds & policy_.ask_first) ? "ask first" : "";
}

UsbHandover::Actions UsbHandover::attach(const Device& device, const std::string& guest, std::string policy) {
    pending_[device.sysname] = Pending{.attach = true, .guest = guest, .policy = std::move(policy)};
    return {UsbAction{.kind = UsbAction::Kind::Attach, .guest = guest, .device = device}};
}

UsbHandover::Actions UsbHandover::detach(const Device& device, const std::string& guest, std::string then_attach_to,
                                         bool quiet) {
    pending_[device.sysname] =
        Pending{.attach = false, .guest = guest, .then_attach_to = std::move(then_attach_to), .quiet = quiet};
    return {UsbAction{.kind = UsbAction::Kind::Detach, .guest = guest, .device = device}};
}

UsbHandover::Actions UsbHandover::plugged(const Device& device, const UsbWorld& world) {
    last_holder_.erase(device.sysname);
    const usb::UsbDecision d = usb::decide(policy_, device, world.shown, running_guests(world));
    const std::string name = device.name();
    using K = usb::UsbDecision::Kind;
    switch (d.kind) {
    case K::Attach:
        tried_.insert({d.guest + "@" + std::to_string(find_guest(world, d.guest) ? find_guest(world, d.guest)->domain_id : -1),
                       device.sysname + "@" + std::to_string(device.address)});
        return attach(device, d.guest, d.why);
    case K::Offer:
        offered_ = device.sysname;
        if (chord_.empty())
            return {notice(d.guest, fmt::format("{} plugged in: `phyllomectl usb attach {} {}` gives it to {}", name,
                                                d.guest, device.sysname, d.guest))};
        return {notice(d.guest, fmt::format("{} plugged in — {} gives it to {}", name, chord_, d.guest))};
    case K::Ask:
        offered_ = device.sysname;
        return {notice(d.guest, fmt::format("{} ({}) plugged in: it stays with this computer; {} twice gives it to {}",
                                            name, usb::describe_kinds(device.kinds),
                                            chord_.empty() ? std::string("the host chord") : chord_, d.guest))};
    case K::Never:
        offered_ = device.sysname; // Host+U then says why not
        return {notice("", fmt::format("{} plugged in: it stays with this computer ({})", name, d.why))};
    case K::Leave:
        break;
    }
    offered_ = device.sysname;
    return {notice("", fmt::format("{} plugged in", name))};
}

UsbHandover::Actions UsbHandover::unplugged(const Device& device, const UsbWorld& world) {
    if (offered_ == device.sysname)
        offered_.clear();
    if (confirming_ == device.sysname)
        confirming_.clear();
    last_holder_.erase(device.sysname);
    const std::string name = device.name();
    if (auto it = pending_.find(device.sysname); it != pending_.end()) {
        it->second.quiet = true; // its result no longer matters to the user
        it->second.then_attach_to.clear();
        return {notice(it->second.guest, fmt::format("{} unplugged", name))};
    }
    const std::string h = holder(device, world);
    if (h.empty())
        return {notice("", fmt::format("{} unplugged", name))};
    Actions out = detach(device, h, "", true);
    out.push_back(notice(h, fmt::format("{} unplugged: {} no longer has it", name, h)));
    return out;
}

UsbHandover::Actions UsbHandover::guests_changed(const UsbWorld& world) {
    Actions out;
    std::map<std::string, int> running;
    for (const auto& g : world.guests)
        if (g.state == guestview::GuestState::Running && g.domain_id >= 0)
            running[g.name] = g.domain_id;
    for (const auto& [name, id] : running) {
        auto seen = seen_running_.find(name);
        if (seen != seen_running_.end() && seen->second == id)
            continue;
        // A guest started (or the shell did): the policy gives it what it always gets.
        const auto* g = find_guest(world, name);
        for (const auto& device : world.devices) {
            if (pending_.contains(device.sysname) || !holder(device, world).empty())
                continue;
            const usb::UsbDecision d = usb::decide(policy_, device, "", {usb::UsbGuest{name, g->usb_choices}});
            if (d.kind != usb::UsbDecision::Kind::Attach || d.guest != name)
                continue;
            if (!tried_.insert({name + "@" + std::to_string(id), device.sysname + "@" + std::to_string(device.address)})
                     .second)
                continue;
            auto a = attach(device, name, d.why);
            out.insert(out.end(), a.begin(), a.end());
        }
    }
    seen_running_ = std::move(running);
    // A guest that stopped (or let a device go by itself) gave its devices back.
    for (const auto& device : world.devices) {
        const std::string h = holder(device, world);
        auto it = last_holder_.find(device.sysname);
        const std::string before = it == last_holder_.end() ? "" : it->second;
        if (!before.empty() && h != before && !pending_.contains(device.sysname)) {
            const auto* g = find_guest(world, before);
            const bool stopped = !g || g->state != guestview::GuestState::Running;
            out.push_back(notice(before, fmt::format("{} is back with this computer: {} {}", device.name(), before,
                                                     stopped ? "stopped" : "let it go")));
        }
        if (h.empty())
            last_holder_.erase(device.sysname);
        else
            last_holder_[device.sysname] = h;
    }
    return out;
}

UsbHandover::Actions UsbHandover::chord(const UsbWorld& world, Clock::time_point now) {
    const std::string& guest = world.shown;
    if (guest.empty())
        return {notice("", fmt::format("{} gives a USB device to the guest on screen: show one first, or give it "
                                       "from the guest's card (O)", chord_))};
    const Device* device = nullptr;
    if (!offered_.empty()) {
        auto it = std::ranges::find(world.devices, offered_, &Device::sysname);
        device = it == world.devices.end() ? nullptr : &*it;
    }
    if (!device) // nothing offered: take back what the shown guest has, the newest first
        for (auto it = world.devices.rbegin(); it != world.devices.rend() && !device; ++it)
            if (holder(*it, world) == guest)
                device = &*it;
    if (!device)
        return {notice(guest, "No USB device to give: plug one in")};
    const std::string name = device->name();
    if (std::string b = busy(*device); !b.empty())
        return {notice(guest, fmt::format("{}: still {} it", name, b))};
    const std::string h = holder(*device, world);
    offered_ = device->sysname;
    if (h == guest)
        return detach(*device, guest, "", false);
    if (std::string why = usb::refusal(policy_, *device); !why.empty())
        return {notice(guest, why, true)};
    if ((device->kinds & policy_.ask_first) &&
        !(confirming_ == device->sysname && now - confirming_since_ < confirm_window)) {
        confirming_ = device->sysname;
        confirming_since_ = now;
        return {notice(guest, fmt::format("{} is this computer's {}: the host cannot use it while {} has it. {} again "
                                          "gives it",
                                          name, usb::describe_kinds(device->kinds & policy_.ask_first), guest, chord_))};
    }
    confirming_.clear();
    if (!h.empty())
        return detach(*device, h, guest, false);
    return attach(*device, guest);
}

UsbHandover::Actions UsbHandover::give(const Device& device, const std::string& guest, const UsbWorld& world,
                                       bool confirmed) {
    const std::string name = device.name();
    const auto* g = find_guest(world, guest);
    if (!g)
        return {notice("", fmt::format("no guest is called '{}'", guest), true)};
    if (g->state != guestview::GuestState::Running)
        return {notice(guest, fmt::format("{} is {}: start it first, then give it {}", guest,
                                          guestview::to_string(g->state), name), true)};
    if (std::string b = busy(device); !b.empty())
        return {notice(guest, fmt::format("{}: still {} it", name, b), true)};
    const std::string h = holder(device, world);
    if (h == guest)
        return {notice(guest, fmt::format("{} has {} already", guest, name))};
    if (std::string why = usb::refusal(policy_, device); !why.empty())
        return {notice(guest, why, true)};
    if ((device.kinds & policy_.ask_first) && !confirmed)
        return {notice(guest, fmt::format("{} is this computer's {}: the host cannot use it while {} has it; "
                                          "give it with --force if that is what you want",
                                          name, usb::describe_kinds(device.kinds & policy_.ask_first), guest), true)};
    offered_ = device.sysname;
    if (!h.empty())
        return detach(device, h, guest, false);
    return attach(device, guest);
}

UsbHandover::Actions UsbHandover::take_back(const Device& device, const UsbWorld& world) {
    if (std::string b = busy(device); !b.empty())
        return {notice("", fmt::format("{}: still {} it", device.name(), b), true)};
    const std::string h = holder(device, world);
    if (h.empty())
        return {notice("", fmt::format("{} is with this computer already", device.name()))};
    return detach(device, h, "", false);
}

UsbHandover::Pending UsbHandover::take_pending(const std::string& sysname) {
    Pending p;
    if (auto it = pending_.find(sysname); it != pending_.end()) {
        p = std::move(it->second);
        pending_.erase(it);
    }
    return p;
}

UsbHandover::Actions UsbHandover::attach_done(const std::string& guest, const Device& device, bool ok,
                                              const std::string& error) {
    const Pending p = take_pending(device.sysname);
    const std::string name = device.name();
    if (!ok) {
        if (p.quiet)
            return {};
        UsbAction n = notice(guest, fmt::format("{} could not take {}: {}", guest, name, error), true);
        n.banner = fmt::format("{} could not take {}: {}", guest, name, guestview::usb_error_reason(error));
        return {n};
    }
    last_holder_[device.sysname] = guest;
    if (p.quiet) // unplugged meanwhile: libvirt would keep a device that is gone
        return detach(device, guest, "", true);
    if (!p.policy.empty())
        return {notice(guest, fmt::format("{} is {}'s now ({})", name, guest, p.policy))};
    return {notice(guest, chord_.empty() ? fmt::format("{} is {}'s now", name, guest)
                                         : fmt::format("{} is {}'s now — {} takes it back", name, guest, chord_))};
}

UsbHandover::Actions UsbHandover::detach_done(const std::string& guest, const Device& device, bool ok,
                                              const std::string& error, const UsbWorld& world) {
    const Pending p = take_pending(device.sysname);
    const std::string name = device.name();
    if (!ok)
        return p.quiet ? Actions{} : Actions{notice(guest, fmt::format("{} kept {}: {}", guest, name, error), true)};
    last_holder_.erase(device.sysname);
    if (!p.then_attach_to.empty() && std::ranges::find(world.devices, device.sysname, &Device::sysname) != world.devices.end())
        return attach(device, p.then_attach_to);
    if (p.quiet)
        return {};
    return {notice(guest, fmt::format("{} is back with this computer", name))};
}

std::vector<usb::UsbChoice> with_choice(std::vector<usb::UsbChoice> choices, const usb::UsbMatch& match,
                                        UsbRemember what) {
    std::erase_if(choices, [&](const usb::UsbChoice& c) { return c.match == match; });
    if (what != UsbRemember::Forget)
        choices.push_back(usb::UsbChoice{match, what == UsbRemember::Always});
    return choices;
}

const usb::UsbDevice* find_usb_device(const std::vector<usb::UsbDevice>& devices, const std::string& spec) {
    auto first = [&](auto pred) -> const usb::UsbDevice* {
        auto it = std::ranges::find_if(devices, pred);
        return it == devices.end() ? nullptr : &*it;
    };
    if (auto* d = first([&](const usb::UsbDevice& d) { return d.sysname == spec; }))
        return d;
    if (auto id = usb::parse_usb_id(spec))
        return first([&](const usb::UsbDevice& d) { return d.vendor == id->first && d.product == id->second; });
    if (auto* d = first([&](const usb::UsbDevice& d) { return !d.serial.empty() && d.serial == spec; }))
        return d;
    const std::string wanted = lower(spec);
    return first([&](const usb::UsbDevice& d) { return lower(d.name()) == wanted; });
}

} // namespace phyllome::compositor
