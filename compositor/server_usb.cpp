// The host's USB devices in the server (issue 18): Host+U, the notices over the shown guest,
// and the list the overlay and status show. UsbDevices does the work.
#include <cctype>

#include <fmt/format.h>

#include "compositor/guest_identity.hpp"
#include "compositor/server.hpp"

namespace phyllome::compositor {

std::string Server::usb_chord_label() const {
    const std::string& key = config().usb.key;
    if (key.empty())
        return {};
    return fmt::format("{}+{}", host_key_label(),
                       key.size() == 1 ? std::string(1, static_cast<char>(std::toupper(key[0]))) : key);
}

void Server::setup_usb() {
    usb_ = std::make_unique<UsbDevices>(loop(), *inventory_, static_cast<UsbDevices::Host&>(*this), config().usb,
                                        usb_chord_label());
}

bool Server::usb_binding(xkb_keysym_t sym) {
    const std::string& key = config().usb.key;
    if (!usb_ || key.empty() ||
        xkb_keysym_to_lower(xkb_keysym_from_name(key.c_str(), XKB_KEYSYM_CASE_INSENSITIVE)) != xkb_keysym_to_lower(sym))
        return false;
    usb_->chord();
    return true;
}

std::string Server::usb_shown_guest() const { return stage_ ? stage_->shown() : std::string(); }

void Server::usb_notice(const std::string& guest, const std::string& text, bool error, const std::string& banner) {
    // Over the guest only while it is the one shown: a banner over another guest would mislead.
    if (!guest.empty() && stage_ && stage_->shown() == guest) {
        const auto* info = inventory_->find(guest);
        banner_->show_message(banner.empty() ? text : banner, error ? config().overlay.error : info ? guest_colour(*info) : colour_from_name(guest),
                              usb_notice_ms);
    }
    overlay_model_.set_notice(text, error);
    refresh_overlay();
}

void Server::usb_from_overlay(const std::string& guest, const std::string& device) {
    if (guest.empty())
        return usb_notice("", "Select a running guest to give it a USB device", false);
    if (device.empty())
        usb_->chord(guest);
    else
        usb_->toggle(device, guest);
}

void Server::usb_remember_from_overlay(const std::string& guest, const std::string& device, const std::string& what) {
    const UsbRemember choice = what == "always" ? UsbRemember::Always
                               : what == "never" ? UsbRemember::Never
                                                 : UsbRemember::Forget;
    // UsbDevices drops its replies when it goes, and it goes first in ~Server.
    usb_->remember(device, guest, choice, [this](bool ok, std::string text) { usb_notice("", text, !ok); });
}

void Server::usb_changed() {
    overlay_model_.set_usb(usb_->list());
    refresh_overlay();
}

} // namespace phyllome::compositor
