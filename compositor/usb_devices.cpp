#include "compositor/usb_devices.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "config/log.hpp"
#include "guestview/usb/usb_policy_config.hpp"

namespace phyllome::compositor {

namespace usb = guestview::usb;

namespace {

guestview::UsbHostdev hostdev(const usb::UsbDevice& d) {
    return guestview::UsbHostdev{.vendor = d.vendor, .product = d.product, .bus = d.bus, .address = d.address};
}

bool calls_libvirt(const UsbHandover::Actions& actions) {
    return std::ranges::any_of(actions, [](const UsbAction& a) { return a.kind != UsbAction::Kind::Notice; });
}

// What phyllomectl prints when the handover only answered with a notice.
const UsbAction* first_notice(const UsbHandover::Actions& actions) {
    auto it = std::ranges::find(actions, UsbAction::Kind::Notice, &UsbAction::kind);
    return it == actions.end() ? nullptr : &*it;
}

} // namespace

UsbDevices::UsbDevices(wl_event_loop* loop, guestview::GuestInventory& inventory, Host& host,
                       const config::UsbConfig& config, std::string chord)
    : inventory_(inventory), host_(host), handover_(usb::policy_from_config(config), std::move(chord)) {
    usb::UsbWatcher::Callbacks callbacks;
    callbacks.added = [this](const usb::UsbDevice& d) { plugged(d); };
    callbacks.removed = [this](const usb::UsbDevice& d) { unplugged(d); };
    watcher_ = usb::UsbWatcher::create(loop, std::move(callbacks), problem_);
    if (!watcher_)
        log::warn("usb: host devices are not watched, none can be given to a guest: {}", problem_);
    else
        log::info("usb: watching the host's USB devices ({} plugged in)", watcher_->devices().size());
}

UsbDevices::~UsbDevices() = default;

void UsbDevices::reconfigure(const config::UsbConfig& config, std::string chord) {
    handover_.set_policy(usb::policy_from_config(config), std::move(chord));
    host_.usb_changed();
}

UsbWorld UsbDevices::world() const {
    return UsbWorld{watcher_ ? watcher_->devices() : no_devices_, inventory_.guests(), host_.usb_shown_guest()};
}

void UsbDevices::plugged(const usb::UsbDevice& device) {
    log::info("usb: {} plugged in ({} {}, bus {} device {}, {})", device.name(), device.sysname, device.id(), device.bus,
              device.address, usb::describe_kinds(device.kinds));
    run(handover_.plugged(device, world()));
    host_.usb_changed();
}

void UsbDevices::unplugged(const usb::UsbDevice& device) {
    log::info("usb: {} unplugged ({})", device.name(), device.sysname);
    finish_reply(device.sysname, false, fmt::format("{} was unplugged", device.name()));
    run(handover_.unplugged(device, world()));
    host_.usb_changed();
}

void UsbDevices::guests_changed() { run(handover_.guests_changed(world())); }

void UsbDevices::chord(const std::string& guest) {
    UsbWorld w = world();
    if (!guest.empty())
        w.shown = guest;
    run(handover_.chord(w, UsbHandover::Clock::now()));
    host_.usb_changed();
}

void UsbDevices::toggle(const std::string& sysname, const std::string& guest) {
    handover_.offer(sysname);
    chord(guest);
}

void UsbDevices::run(UsbHandover::Actions actions) {
    for (UsbAction& a : actions) {
        switch (a.kind) {
        case UsbAction::Kind::Notice:
            if (a.error)
                log::warn("usb: {}", a.text);
            else
                log::info("usb: {}", a.text);
            host_.usb_notice(a.guest, a.text, a.error, a.banner);
            break;
        case UsbAction::Kind::Attach:
        case UsbAction::Kind::Detach: {
            const bool attach = a.kind == UsbAction::Kind::Attach;
            log::info("usb: {} {} {} {} ({})", attach ? "giving" : "taking back", a.device.name(),
                      attach ? "to" : "from", a.guest, a.device.sysname);
            auto done = [this, alive = std::weak_ptr<bool>(alive_), attach, guest = a.guest,
                         device = a.device](bool ok, std::string error) {
                if (alive.expired())
                    return;
                UsbHandover::Actions next = attach ? handover_.attach_done(guest, device, ok, error)
                                                   : handover_.detach_done(guest, device, ok, error, world());
                if (!calls_libvirt(next)) {
                    const UsbAction* n = first_notice(next);
                    finish_reply(device.sysname, ok, n ? n->text : ok ? "done" : error);
                }
                run(std::move(next));
                host_.usb_changed();
            };
            if (attach)
                inventory_.attach_usb(a.guest, hostdev(a.device), std::move(done));
            else
                inventory_.detach_usb(a.guest, hostdev(a.device), std::move(done));
            break;
        }
        }
    }
}

void UsbDevices::finish_reply(const std::string& sysname, bool ok, const std::string& text) {
    auto it = replies_.find(sysname);
    if (it == replies_.end())
        return;
    Reply reply = std::move(it->second);
    replies_.erase(it);
    reply(ok, text);
}

void UsbDevices::submit(const std::string& spec, Reply reply,
                        const std::function<UsbHandover::Actions(const usb::UsbDevice&, const UsbWorld&)>& decide) {
    const UsbWorld w = world();
    const usb::UsbDevice* device = find_usb_device(w.devices, spec);
    if (!device)
        return reply(false, fmt::format("no USB device '{}' is plugged in (see phyllomectl usb)", spec));
    if (replies_.contains(device->sysname))
        return reply(false, fmt::format("{}: another request for it is under way", device->name()));
    const usb::UsbDevice copy = *device; // the list may change while the call runs
    UsbHandover::Actions actions = decide(copy, w);
    if (!calls_libvirt(actions)) {
        const UsbAction* n = first_notice(actions);
        return reply(n && !n->error, n ? n->text : "nothing to do");
    }
    replies_[copy.sysname] = std::move(reply);
    run(std::move(actions));
    host_.usb_changed();
}

void UsbDevices::give(const std::string& spec, const std::string& guest, bool force, Reply reply) {
    submit(spec, std::move(reply), [&](const usb::UsbDevice& d, const UsbWorld& w) { return handover_.give(d, guest, w, force); });
}

void UsbDevices::take_back(const std::string& spec, Reply reply) {
    submit(spec, std::move(reply), [&](const usb::UsbDevice& d, const UsbWorld& w) { return handover_.take_back(d, w); });
}

void UsbDevices::remember(const std::string& spec, const std::string& guest, UsbRemember what, Reply reply) {
    const guestview::GuestInfo* info = inventory_.find(guest);
    if (!info)
        return reply(false, fmt::format("no guest is called '{}'", guest));
    const UsbWorld w = world();
    usb::UsbMatch match;
    std::string name;
    if (const usb::UsbDevice* device = find_usb_device(w.devices, spec)) {
        match = usb::UsbMatch{device->id(), device->serial};
        name = device->name();
    } else if (auto id = usb::parse_usb_id(spec)) {
        match = usb::UsbMatch{fmt::format("{:04x}:{:04x}", id->first, id->second), ""};
        name = match.id;
    } else {
        return reply(false, fmt::format("no USB device '{}' is plugged in; name one by its id (vvvv:pppp) to "
                                        "remember it unplugged",
                                        spec));
    }
    auto choices = with_choice(info->usb_choices, match, what);
    inventory_.set_usb_choices(
        guest, std::move(choices),
        [this, alive = std::weak_ptr<bool>(alive_), guest, name, what, spec, reply = std::move(reply)](bool ok,
                                                                                                      std::string error) {
            if (alive.expired())
                return;
            if (!ok)
                return reply(false, fmt::format("{} could not remember {}: {}", guest, name, error));
            host_.usb_changed();
            const char* text = what == UsbRemember::Always  ? "{0} gets {1} whenever both are here"
                               : what == UsbRemember::Never ? "{1} is never offered to {0}"
                                                            : "{0} forgot {1}";
            reply(true, fmt::format(fmt::runtime(text), guest, name));
            if (what == UsbRemember::Always) // on sight: now, if it is here, free and the guest runs
                guests_changed_for(spec, guest);
        });
}

void UsbDevices::guests_changed_for(const std::string& spec, const std::string& guest) {
    const UsbWorld w = world();
    const usb::UsbDevice* device = find_usb_device(w.devices, spec);
    const guestview::GuestInfo* info = inventory_.find(guest);
    if (!device || !info || info->state != guestview::GuestState::Running || !handover_.owner(*device, w).empty() ||
        (device->kinds & handover_.policy().ask_first) || !usb::refusal(handover_.policy(), *device).empty())
        return;
    const usb::UsbDevice copy = *device;
    run(handover_.give(copy, guest, w, false));
    host_.usb_changed();
}

std::vector<UsbDevices::Entry> UsbDevices::list() const {
    const UsbWorld w = world();
    std::vector<Entry> out;
    for (const auto& d : w.devices)
        out.push_back(Entry{d, handover_.owner(d, w), handover_.busy(d), handover_.policy_note(d),
                            handover_.offered() == d.sysname});
    return out;
}

} // namespace phyllome::compositor
