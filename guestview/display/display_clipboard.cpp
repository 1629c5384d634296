#include "guestview/display/display_clipboard.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "config/log.hpp"
#include "guestview/display/display_connection_impl.hpp"

namespace phyllome::guestview::detail {
namespace {

constexpr const char* clipboard_path = "/org/qemu/Display1/Clipboard";
constexpr const char* clipboard_interface = "org.qemu.Display1.Clipboard";
constexpr const char* error_failed = "org.qemu.Display1.Error.Failed";
constexpr std::uint32_t selection_clipboard = 0; // 1 primary, 2 secondary: not ours to move

std::string errno_text(int r) { return std::strerror(-r); }

// Reads `as` and tells whether it names the text type.
int read_mimes(sd_bus_message* m, bool& has_text) {
    char** mimes = nullptr;
    int r = sd_bus_message_read_strv(m, &mimes);
    if (r < 0)
        return r;
    has_text = false;
    for (char** p = mimes; p && *p; ++p) {
        if (std::string_view(*p) == clipboard_text_mime)
            has_text = true;
        std::free(*p);
    }
    std::free(mimes);
    return 0;
}

int append_text_mime(sd_bus_message* m) {
    static const char* const mimes[] = {clipboard_text_mime, nullptr};
    return sd_bus_message_append_strv(m, const_cast<char**>(mimes));
}

bool timed_out(const sd_bus_error* e) {
    return sd_bus_error_has_name(e, SD_BUS_ERROR_NO_REPLY) || sd_bus_error_has_name(e, SD_BUS_ERROR_TIMEOUT);
}

} // namespace

DisplayClipboard::DisplayClipboard(sd_bus* bus, std::string guest_name, std::function<void()> wake)
    : bus_(bus), guest_name_(std::move(guest_name)), wake_(std::move(wake)) {}

bool DisplayClipboard::start(std::string& error) {
    static const sd_bus_vtable vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD("Register", "", "", on_register, 0),
        SD_BUS_METHOD("Unregister", "", "", on_unregister, 0),
        SD_BUS_METHOD("Grab", "uuas", "", on_grab, 0),
        SD_BUS_METHOD("Release", "u", "", on_release, 0),
        SD_BUS_METHOD("Request", "uas", "say", on_request, 0),
        SD_BUS_VTABLE_END,
    };
    sd_bus_slot* slot = nullptr;
    int r = sd_bus_add_object_vtable(bus_, &slot, clipboard_path, clipboard_interface, vtable, this);
    if (r < 0) {
        error = "exporting the Clipboard object: " + errno_text(r);
        return false;
    }
    object_.reset(slot);
    auto none = [](sd_bus_message*) { return 0; };
    // QEMU 7.2 may still count an earlier connection as registered; Unregister's error (none
    // was) does not matter. Messages keep their order, so Register follows it.
    r = call("Unregister", &slot, [](sd_bus_message*, void*, sd_bus_error*) { return 0; }, none);
    if (r >= 0)
        unregister_call_.reset(slot);
    r = call("Register", &slot, on_register_reply, none);
    if (r < 0) {
        log::warn("guest {}: cannot register the clipboard with QEMU: {}", guest_name_, errno_text(r));
        return true; // the display works without it
    }
    register_call_.reset(slot);
    return true;
}

int DisplayClipboard::call(const char* method, sd_bus_slot** slot, sd_bus_message_handler_t handler,
                           const std::function<int(sd_bus_message*)>& append) {
    sd_bus_message* raw = nullptr;
    int r = sd_bus_message_new_method_call(bus_, &raw, nullptr, clipboard_path, clipboard_interface, method);
    if (r < 0)
        return r;
    MessagePtr message(raw);
    r = append(raw);
    if (r < 0)
        return r;
    r = sd_bus_call_async(bus_, slot, raw, handler, this, call_timeout_usec);
    if (r >= 0 && wake_)
        wake_();
    return r;
}

int DisplayClipboard::on_register_reply(sd_bus_message* reply, void* data, sd_bus_error*) {
    auto* self = static_cast<DisplayClipboard*>(data);
    self->register_call_.reset();
    if (const sd_bus_error* e = sd_bus_message_get_error(reply)) {
        log::warn("guest {}: QEMU refused our clipboard: {}; Host+C and Host+V will not work for it", self->guest_name_,
                  e->message ? e->message : e->name);
        return 0;
    }
    self->registered_ = true;
    log::info("guest {}: clipboard registered (moves only on Host+C / Host+V)", self->guest_name_);
    return 0;
}

// ---- what QEMU calls on our object ----

int DisplayClipboard::on_register(sd_bus_message* m, void* data, sd_bus_error*) {
    auto* self = static_cast<DisplayClipboard*>(data);
    // A new peer registered with QEMU (that is us): every side starts counting again.
    self->serial_ = 0;
    if (self->guest_grab_)
        self->guest_grab_->serial = 0;
    self->offered_serial_ = 0;
    log::debug("guest {}: QEMU reset the clipboard serials", self->guest_name_);
    return sd_bus_reply_method_return(m, "");
}

int DisplayClipboard::on_unregister(sd_bus_message* m, void* data, sd_bus_error*) {
    auto* self = static_cast<DisplayClipboard*>(data);
    self->guest_grab_.reset();
    self->offered_.reset();
    return sd_bus_reply_method_return(m, "");
}

int DisplayClipboard::on_grab(sd_bus_message* m, void* data, sd_bus_error*) {
    auto* self = static_cast<DisplayClipboard*>(data);
    std::uint32_t selection = 0, serial = 0;
    bool has_text = false;
    int r = sd_bus_message_read(m, "uu", &selection, &serial);
    if (r >= 0)
        r = read_mimes(m, has_text);
    if (r < 0) {
        log::warn("guest {}: malformed clipboard Grab from QEMU: {}", self->guest_name_, errno_text(r));
        return sd_bus_reply_method_errorf(m, error_failed, "malformed Grab");
    }
    if (selection != selection_clipboard)
        return sd_bus_reply_method_return(m, "");
    // Our offer stands against an older grab, and against an equal serial (the client wins ties).
    if (self->offered_ && serial <= self->offered_serial_) {
        log::debug("guest {}: stale clipboard grab (serial {} against our {}) ignored", self->guest_name_, serial,
                   self->offered_serial_);
        return sd_bus_reply_method_return(m, "");
    }
    // Remembered, not read: the text moves on Host+C only.
    self->guest_grab_ = GuestGrab{serial, has_text};
    self->offered_.reset();
    self->serial_ = std::max(self->serial_, serial);
    log::debug("guest {}: the guest took its clipboard (serial {}, {})", self->guest_name_, serial,
               has_text ? "text" : "no text");
    return sd_bus_reply_method_return(m, "");
}

int DisplayClipboard::on_release(sd_bus_message* m, void* data, sd_bus_error*) {
    auto* self = static_cast<DisplayClipboard*>(data);
    std::uint32_t selection = 0;
    if (sd_bus_message_read(m, "u", &selection) < 0)
        return sd_bus_reply_method_errorf(m, error_failed, "malformed Release");
    if (selection == selection_clipboard) {
        // Nobody owns the guest's clipboard now, our offer included.
        self->guest_grab_.reset();
        self->offered_.reset();
    }
    return sd_bus_reply_method_return(m, "");
}

int DisplayClipboard::on_request(sd_bus_message* m, void* data, sd_bus_error*) {
    auto* self = static_cast<DisplayClipboard*>(data);
    std::uint32_t selection = 0;
    bool has_text = false;
    int r = sd_bus_message_read(m, "u", &selection);
    if (r >= 0)
        r = read_mimes(m, has_text);
    if (r < 0)
        return sd_bus_reply_method_errorf(m, error_failed, "malformed Request");
    if (selection != selection_clipboard || !self->offered_)
        return sd_bus_reply_method_errorf(m, error_failed, "Empty clipboard");
    if (!has_text)
        return sd_bus_reply_method_errorf(m, error_failed, "Unhandled MIME types requested");
    sd_bus_message* raw = nullptr;
    r = sd_bus_message_new_method_return(m, &raw);
    if (r < 0)
        return r;
    MessagePtr reply(raw);
    r = sd_bus_message_append(raw, "s", clipboard_text_mime);
    if (r >= 0)
        r = sd_bus_message_append_array(raw, 'y', self->offered_->data(), self->offered_->size());
    if (r >= 0)
        r = sd_bus_send(nullptr, raw, nullptr);
    if (r >= 0)
        log::info("guest {}: the guest pasted {} bytes the user offered it", self->guest_name_,
                  self->offered_->size());
    return r;
}

// ---- what the user asks ----

void DisplayClipboard::take(std::size_t max_bytes, ClipboardDone done) {
    auto fail = [&](std::string why) { done(ClipboardOutcome{false, {}, std::move(why)}); };
    if (!registered_)
        return fail(guest_name_ + " has no clipboard connection (QEMU did not accept ours)");
    if (take_call_)
        return fail("still copying from " + guest_name_);
    if (!guest_grab_ || !guest_grab_->has_text)
        return fail(guest_name_ + "'s clipboard is empty, or it runs no clipboard agent (spice-vdagent)");
    sd_bus_slot* slot = nullptr;
    int r = call("Request", &slot, on_take_reply, [](sd_bus_message* m) {
        int r = sd_bus_message_append(m, "u", selection_clipboard);
        return r < 0 ? r : append_text_mime(m);
    });
    if (r < 0)
        return fail(guest_name_ + "'s clipboard cannot be asked: " + errno_text(r));
    take_call_.reset(slot);
    take_limit_ = max_bytes;
    take_done_ = std::move(done);
}

std::string DisplayClipboard::reply_error(const sd_bus_error* e, const char* doing) const {
    if (timed_out(e))
        return fmt::format("{} did not answer in time ({})", guest_name_, doing);
    return fmt::format("{} refused ({}): {}", guest_name_, doing, e->message ? e->message : e->name);
}

ClipboardOutcome DisplayClipboard::read_text(sd_bus_message* reply) const {
    const char* mime = nullptr;
    const void* bytes = nullptr;
    std::size_t size = 0;
    int r = sd_bus_message_read(reply, "s", &mime);
    if (r >= 0)
        r = sd_bus_message_read_array(reply, 'y', &bytes, &size);
    if (r < 0)
        return {false, {}, fmt::format("{} sent a malformed clipboard ({})", guest_name_, errno_text(r))};
    if (std::string_view(mime) != clipboard_text_mime)
        return {false, {}, fmt::format("{} sent '{}' instead of text", guest_name_, mime)};
    std::string_view text(static_cast<const char*>(bytes), size);
    while (!text.empty() && text.back() == '\0') // agents may send C strings
        text.remove_suffix(1);
    if (text.size() > take_limit_)
        return {false, {},
                fmt::format("{}'s clipboard is too large ({} bytes; the limit is {})", guest_name_, text.size(),
                            take_limit_)};
    if (!is_clipboard_text(text))
        return {false, {}, fmt::format("{}'s clipboard is not UTF-8 text; nothing copied", guest_name_)};
    return {true, std::string(text), {}};
}

int DisplayClipboard::on_take_reply(sd_bus_message* reply, void* data, sd_bus_error*) {
    auto* self = static_cast<DisplayClipboard*>(data);
    self->take_call_.reset();
    ClipboardDone done = std::move(self->take_done_);
    ClipboardOutcome outcome;
    if (const sd_bus_error* e = sd_bus_message_get_error(reply))
        outcome = {false, {}, self->reply_error(e, "copying its clipboard")};
    else
        outcome = self->read_text(reply);
    if (!outcome.ok)
        log::warn("guest {}: Host+C: {}", self->guest_name_, outcome.error);
    if (done)
        done(std::move(outcome));
    return 0;
}

void DisplayClipboard::offer(std::string text, ClipboardDone done) {
    auto fail = [&](std::string why) { done(ClipboardOutcome{false, {}, std::move(why)}); };
    if (!registered_)
        return fail(guest_name_ + " has no clipboard connection (QEMU did not accept ours)");
    const std::uint32_t serial = serial_ + 1;
    sd_bus_slot* slot = nullptr;
    int r = call("Grab", &slot, on_offer_reply, [serial](sd_bus_message* m) {
        int r = sd_bus_message_append(m, "uu", selection_clipboard, serial);
        return r < 0 ? r : append_text_mime(m);
    });
    if (r < 0)
        return fail(guest_name_ + "'s clipboard cannot be offered text: " + errno_text(r));
    serial_ = serial;
    offered_serial_ = serial;
    offered_ = std::move(text);
    guest_grab_.reset();
    offer_call_.reset(slot); // a newer offer replaces an unanswered one
    offer_done_ = std::move(done);
}

int DisplayClipboard::on_offer_reply(sd_bus_message* reply, void* data, sd_bus_error*) {
    auto* self = static_cast<DisplayClipboard*>(data);
    self->offer_call_.reset();
    ClipboardDone done = std::move(self->offer_done_);
    ClipboardOutcome outcome{true, {}, {}};
    if (const sd_bus_error* e = sd_bus_message_get_error(reply)) {
        outcome = {false, {}, self->reply_error(e, "taking the offered text")};
        self->offered_.reset();
        log::warn("guest {}: Host+V: {}", self->guest_name_, outcome.error);
    }
    if (done)
        done(std::move(outcome));
    return 0;
}

ClipboardState DisplayClipboard::state() const {
    return {registered_, guest_grab_ && guest_grab_->has_text, offered_.has_value()};
}

} // namespace phyllome::guestview::detail

// DisplayConnection's clipboard calls: forwarded here so display_connection.cpp stays the
// connection's and properties' file.
namespace phyllome::guestview {

void DisplayConnection::take_clipboard(std::size_t max_bytes, ClipboardDone done) {
    if (auto* clipboard = impl_->clipboard(); clipboard && main_connected())
        return clipboard->take(max_bytes, std::move(done));
    done({false, {}, guest_name() + "'s display is not connected"});
}

void DisplayConnection::offer_clipboard(std::string text, ClipboardDone done) {
    if (auto* clipboard = impl_->clipboard(); clipboard && main_connected())
        return clipboard->offer(std::move(text), std::move(done));
    done({false, {}, guest_name() + "'s display is not connected"});
}

ClipboardState DisplayConnection::clipboard_state() const {
    const auto* clipboard = impl_->clipboard();
    return clipboard && main_connected() ? clipboard->state() : ClipboardState{};
}

} // namespace phyllome::guestview
