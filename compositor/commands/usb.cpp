// The host's USB devices: list them, give one to a guest, take it back, remember a choice.
#include <fmt/format.h>

#include "compositor/commands/commands.hpp"
#include "compositor/usb_devices.hpp"

namespace phyllome::compositor::commands {
namespace {

std::string option(const control::Request& r, const char* key) {
    auto it = r.options.find(key);
    return it == r.options.end() ? std::string{} : it->second;
}

UsbDevices::Reply line_reply(Reply reply) {
    return [reply = std::move(reply)](bool ok, std::string text) { reply(ok, text + "\n"); };
}

} // namespace

void usb(const control::Request&, CommandTarget& target, Reply reply) {
    UsbDevices& devices = target.usb_devices();
    reply(true, usb_text(devices.list(), devices.problem()));
}

void usb_json(const control::Request&, CommandTarget& target, Reply reply) {
    reply(true, compositor::usb_json(target.usb_devices().list()) + "\n");
}

void usb_attach(const control::Request& r, CommandTarget& target, Reply reply) {
    target.usb_devices().give(option(r, "device"), r.guest, option(r, "force") == "1", line_reply(std::move(reply)));
}

void usb_detach(const control::Request& r, CommandTarget& target, Reply reply) {
    target.usb_devices().take_back(option(r, "device"), line_reply(std::move(reply)));
}

void usb_remember(const control::Request& r, CommandTarget& target, Reply reply) {
    const std::string choice = option(r, "choice");
    const UsbRemember what = choice == "always" ? UsbRemember::Always
                             : choice == "never" ? UsbRemember::Never
                                                 : UsbRemember::Forget;
    target.usb_devices().remember(option(r, "device"), r.guest, what, line_reply(std::move(reply)));
}

} // namespace phyllome::compositor::commands
