// The Server's side of the clipboard: Host+C takes the shown guest's clipboard into the shell's,
// Host+V offers the shell's (or a host application's selection) to the shown guest, which then
// pastes with its own keys. Nothing moves on a switch or by itself: these two chords are the
// only callers of DisplayConnection's clipboard calls.
#include <fmt/format.h>

#include "compositor/guest_identity.hpp"
#include "compositor/server.hpp"
#include "config/log.hpp"

namespace phyllome::compositor {
namespace {

// 1204 -> "1,204": the user counts characters, not bytes.
std::string grouped(std::size_t n) {
    std::string digits = std::to_string(n), out;
    for (std::size_t i = 0; i < digits.size(); ++i) {
        if (i > 0 && (digits.size() - i) % 3 == 0)
            out += ',';
        out += digits[i];
    }
    return out;
}

std::string characters_text(std::size_t n) { return grouped(n) + (n == 1 ? " character" : " characters"); }

} // namespace

void Server::clipboard_confirm(const std::string& guest, std::string text, bool error, const std::string& banner) {
    if (error)
        log::warn("clipboard: {}", text);
    else
        log::info("clipboard: {}", text);
    const auto* info = inventory_->find(guest);
    // Only while that guest is still the one shown: a banner over another guest would mislead.
    if (stage_->shown() == guest && !guest.empty())
        banner_->show_message(banner.empty() ? text : banner,
                              error ? config().overlay.error : info ? guest_colour(*info) : colour_from_name(guest));
    overlay_model_.set_notice(std::move(text), error);
    refresh_overlay();
}

void Server::clipboard_copy() {
    const std::string guest = stage_->shown();
    guestview::DisplayConnection* connection = guest.empty() ? nullptr : stage_->displays().connection(guest);
    if (!connection)
        return clipboard_confirm(guest, "Host+C copies from the guest on screen; none is shown", true);
    std::weak_ptr<bool> alive = clipboard_alive_;
    connection->take_clipboard(config().clipboard.max_bytes, [this, alive, guest](guestview::ClipboardOutcome r) {
        if (alive.expired())
            return;
        if (!r.ok)
            return clipboard_confirm(guest, std::move(r.error), true);
        const std::size_t characters = guestview::utf8_characters(r.text);
        clipboard_->set(std::move(r.text), guest);
        clipboard_confirm(guest, fmt::format("copied {} from {}", characters_text(characters), guest), false);
    });
}

void Server::clipboard_paste() {
    const std::string guest = stage_->shown();
    if (guest.empty() || !stage_->displays().connection(guest))
        return clipboard_confirm(guest, "Host+V offers the clipboard to the guest on screen; none is shown", true);
    std::weak_ptr<bool> alive = clipboard_alive_;
    clipboard_->current(config().clipboard.max_bytes, [this, alive, guest](ClipboardText current) {
        if (alive.expired())
            return;
        if (!current.ok)
            return clipboard_confirm(guest, std::move(current.error), true);
        // Read from a host application: the guest may have gone meanwhile.
        guestview::DisplayConnection* connection = stage_->displays().connection(guest);
        if (!connection)
            return clipboard_confirm(guest, guest + "'s display went away; nothing offered", true);
        const std::size_t characters = guestview::utf8_characters(current.text);
        const std::string from = current.source;
        connection->offer_clipboard(std::move(current.text), [this, alive, guest, characters,
                                                              from](guestview::ClipboardOutcome r) {
            if (alive.expired())
                return;
            if (!r.ok)
                return clipboard_confirm(guest, std::move(r.error), true);
            clipboard_confirm(guest,
                              fmt::format("{} can paste {} from {} now, with its own keys", guest,
                                          characters_text(characters), from == "host" ? "the host" : from),
                              false, fmt::format("offered {} to {}", characters_text(characters), guest));
        });
    });
}

void Server::fill_clipboard_status(StatusSnapshot& s) const {
    s.clipboard.characters = clipboard_->characters();
    s.clipboard.bytes = clipboard_->bytes();
    s.clipboard.source = clipboard_->source();
    s.clipboard.host_selection = clipboard_->host_selection();
    for (const auto& g : s.guests) {
        const auto* connection = stage_->displays().connection(g.info.name);
        if (connection)
            s.clipboard.guests.push_back({g.info.name, connection->clipboard_state()});
    }
}

} // namespace phyllome::compositor
