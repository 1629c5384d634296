// The agent protocol's USB parts: a guest's USB fields, and the attach/detach and choices requests.
#include "guestview/agent_wire.hpp"

namespace phyllome::guestview::agent::wire {
namespace {

constexpr std::size_t hostdev_size = 4 * 4;
constexpr std::size_t min_choice_size = 4 + 4 + 1;

void write_hostdev(Writer& w, const UsbHostdev& d) {
    w.u32(d.vendor);
    w.u32(d.product);
    w.i32(d.bus);
    w.i32(d.address);
}

UsbHostdev read_hostdev(Reader& r) {
    UsbHostdev d;
    const std::uint32_t vendor = r.u32();
    const std::uint32_t product = r.u32();
    d.bus = r.i32();
    d.address = r.i32();
    if (vendor > 0xffff || product > 0xffff)
        r.fail();
    d.vendor = static_cast<std::uint16_t>(vendor);
    d.product = static_cast<std::uint16_t>(product);
    return d;
}

void write_choices(Writer& w, const std::vector<usb::UsbChoice>& choices) {
    w.u32(static_cast<std::uint32_t>(choices.size()));
    for (const usb::UsbChoice& c : choices) {
        w.str(c.match.id);
        w.str(c.match.serial);
        w.boolean(c.always);
    }
}

// A count is bounded by what the rest of the body can hold before anything is allocated.
bool read_count(Reader& r, std::size_t element_size, std::uint32_t& count) {
    count = r.u32();
    if (r.failed() || count > r.remaining() / element_size) {
        r.fail();
        return false;
    }
    return true;
}

std::vector<usb::UsbChoice> read_choices(Reader& r) {
    std::vector<usb::UsbChoice> choices;
    std::uint32_t count = 0;
    if (!read_count(r, min_choice_size, count))
        return choices;
    for (std::uint32_t i = 0; i < count && !r.failed(); ++i) {
        usb::UsbChoice c;
        c.match.id = r.str();
        c.match.serial = r.str();
        c.always = r.boolean();
        choices.push_back(std::move(c));
    }
    return choices;
}

} // namespace

void write_guest_usb(Writer& w, const GuestInfo& g) {
    w.u32(static_cast<std::uint32_t>(g.usb_devices.size()));
    for (const UsbHostdev& d : g.usb_devices)
        write_hostdev(w, d);
    write_choices(w, g.usb_choices);
    w.boolean(g.usb_controller);
}

void read_guest_usb(Reader& r, GuestInfo& g) {
    std::uint32_t count = 0;
    if (!read_count(r, hostdev_size, count))
        return;
    for (std::uint32_t i = 0; i < count && !r.failed(); ++i)
        g.usb_devices.push_back(read_hostdev(r));
    g.usb_choices = read_choices(r);
    g.usb_controller = r.boolean();
}

void write_usb_message(std::string& out, const UsbDeviceRequest& m) {
    Writer w(out, Type::UsbDevice);
    w.u32(m.id);
    w.boolean(m.attach);
    w.str(m.guest);
    write_hostdev(w, m.device);
}

void write_usb_message(std::string& out, const UsbChoicesRequest& m) {
    Writer w(out, Type::UsbChoices);
    w.u32(m.id);
    w.str(m.guest);
    write_choices(w, m.choices);
}

std::optional<Request> read_usb_request(Reader& r, Type type) {
    if (type == Type::UsbDevice) {
        UsbDeviceRequest m;
        m.id = r.u32();
        m.attach = r.boolean();
        m.guest = r.str();
        m.device = read_hostdev(r);
        return finished<Request>(r, std::move(m));
    }
    UsbChoicesRequest m;
    m.id = r.u32();
    m.guest = r.str();
    m.choices = read_choices(r);
    return finished<Request>(r, std::move(m));
}

} // namespace phyllome::guestview::agent::wire
