// FakeQemuDisplay's Clipboard: QEMU's side of org.qemu.Display1.Clipboard (ui/dbus-clipboard.c
// and ui/clipboard.c's serial check), and the guest agent's copies and pastes that make QEMU call
// the client's Clipboard object.
#include "tests/display/fake_qemu_display.hpp"
#include "tests/display/fake_qemu_display_parts.hpp"

#include <algorithm>

namespace phyllome::guestview::testing {
namespace {

constexpr const char* clipboard_path = "/org/qemu/Display1/Clipboard";
constexpr const char* clipboard_interface = "org.qemu.Display1.Clipboard";
constexpr const char* text_mime = "text/plain;charset=utf-8";
constexpr const char* error_failed = "org.qemu.Display1.Error.Failed";

bool read_has_text(sd_bus_message* m) {
    char** mimes = nullptr;
    check(sd_bus_message_read_strv(m, &mimes), "reading mimes");
    bool has = false;
    for (char** p = mimes; p && *p; ++p) {
        has = has || std::string(*p) == text_mime;
        free(*p);
    }
    free(mimes);
    return has;
}

int append_text_mime(sd_bus_message* m) {
    static const char* const mimes[] = {text_mime, nullptr};
    return sd_bus_message_append_strv(m, const_cast<char**>(mimes));
}

} // namespace

void FakeQemuDisplay::export_clipboard() {
    static const sd_bus_message_handler_t on_register = [](sd_bus_message* m, void* data, sd_bus_error*) -> int {
        auto* self = static_cast<FakeQemuDisplay*>(data);
        Clipboard& c = *self->clipboard_;
        c.calls.push_back("Register");
        if (c.registered)
            return sd_bus_reply_method_errorf(m, error_failed, "Clipboard peer already registered!");
        // QEMU builds a proxy of the client's object (GetAll) before it answers.
        c.pending_register = detail::ref_message(m);
        sd_bus_slot* slot = nullptr;
        check(sd_bus_call_method_async(
                  self->bus_.get(), &slot, nullptr, clipboard_path, "org.freedesktop.DBus.Properties", "GetAll",
                  [](sd_bus_message* reply, void* data, sd_bus_error*) -> int {
                      auto* self = static_cast<FakeQemuDisplay*>(data);
                      Clipboard& c = *self->clipboard_;
                      c.client_object_read = !sd_bus_message_is_method_error(reply, nullptr);
                      if (!c.client_object_read) {
                          sd_bus_reply_method_errorf(c.pending_register.get(), error_failed, "no client object");
                      } else {
                          c.registered = true;
                          sd_bus_reply_method_return(c.pending_register.get(), "");
                          // qemu_clipboard_reset_serial: the new peer is told to reset.
                          c.serial = 0;
                          sd_bus_slot* reset = nullptr;
                          check(sd_bus_call_method_async(
                                    self->bus_.get(), &reset, nullptr, clipboard_path, clipboard_interface,
                                    "Register",
                                    [](sd_bus_message* r, void* d, sd_bus_error*) -> int {
                                        if (!sd_bus_message_is_method_error(r, nullptr))
                                            ++static_cast<FakeQemuDisplay*>(d)->clipboard_->client_register_calls;
                                        return 0;
                                    },
                                    self, ""),
                                "calling the client's Register");
                          c.client_calls.emplace_back(reset);
                      }
                      c.pending_register.reset();
                      return 0;
                  },
                  self, "s", clipboard_interface),
              "GetAll on the client's Clipboard");
        c.client_calls.emplace_back(slot);
        return 1;
    };
    static const sd_bus_message_handler_t on_unregister = [](sd_bus_message* m, void* data, sd_bus_error*) -> int {
        Clipboard& c = *static_cast<FakeQemuDisplay*>(data)->clipboard_;
        c.calls.push_back("Unregister");
        c.registered = false;
        return sd_bus_reply_method_return(m, "");
    };
    static const sd_bus_message_handler_t on_grab = [](sd_bus_message* m, void* data, sd_bus_error*) -> int {
        Clipboard& c = *static_cast<FakeQemuDisplay*>(data)->clipboard_;
        std::uint32_t selection = 0, serial = 0;
        check(sd_bus_message_read(m, "uu", &selection, &serial), "reading Grab");
        read_has_text(m);
        c.calls.push_back("Grab " + std::to_string(serial));
        if (!c.registered)
            return sd_bus_reply_method_errorf(m, error_failed, "Unregistered caller");
        // qemu_clipboard_check_serial(info, client=true): a tie goes to the client.
        if (c.owner == Clipboard::Owner::None || serial >= c.serial) {
            c.owner = Clipboard::Owner::Client;
            c.serial = serial;
        }
        return sd_bus_reply_method_return(m, "");
    };
    static const sd_bus_message_handler_t on_release = [](sd_bus_message* m, void* data, sd_bus_error*) -> int {
        Clipboard& c = *static_cast<FakeQemuDisplay*>(data)->clipboard_;
        c.calls.push_back("Release");
        if (c.owner == Clipboard::Owner::Client)
            c.owner = Clipboard::Owner::None;
        return sd_bus_reply_method_return(m, "");
    };
    static const sd_bus_message_handler_t on_request = [](sd_bus_message* m, void* data, sd_bus_error*) -> int {
        Clipboard& c = *static_cast<FakeQemuDisplay*>(data)->clipboard_;
        std::uint32_t selection = 0;
        check(sd_bus_message_read(m, "u", &selection), "reading Request");
        const bool text = read_has_text(m);
        c.calls.push_back("Request");
        if (!c.registered)
            return sd_bus_reply_method_errorf(m, error_failed, "Unregistered caller");
        if (c.owner != Clipboard::Owner::Guest)
            return sd_bus_reply_method_errorf(m, error_failed, "Empty clipboard");
        if (!text)
            return sd_bus_reply_method_errorf(m, error_failed, "Unhandled MIME types requested");
        if (c.agent_hung) {
            c.hung_requests.push_back(detail::ref_message(m));
            return 1;
        }
        sd_bus_message* raw = nullptr;
        check(sd_bus_message_new_method_return(m, &raw), "new return");
        detail::MessagePtr reply(raw);
        check(sd_bus_message_append(raw, "s", text_mime), "append mime");
        if (c.reply_malformed)
            check(sd_bus_message_append(raw, "s", c.guest_bytes.c_str()), "append");
        else
            check(sd_bus_message_append_array(raw, 'y', c.guest_bytes.data(), c.guest_bytes.size()), "append");
        return sd_bus_send(nullptr, raw, nullptr);
    };
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
    check(sd_bus_add_object_vtable(bus_.get(), &slot, clipboard_path, clipboard_interface, vtable, this),
          "exporting the Clipboard");
    object_slots_.emplace_back(slot);
}

const std::vector<std::string>& FakeQemuDisplay::clipboard_calls() const { return clipboard_->calls; }
bool FakeQemuDisplay::clipboard_registered() const { return clipboard_->registered; }
void FakeQemuDisplay::clipboard_registered_by_earlier_peer() { clipboard_->registered = true; }
void FakeQemuDisplay::set_clipboard_agent_hung(bool hung) { clipboard_->agent_hung = hung; }
void FakeQemuDisplay::set_clipboard_reply_malformed(bool malformed) { clipboard_->reply_malformed = malformed; }
int FakeQemuDisplay::client_register_calls() const { return clipboard_->client_register_calls; }
int FakeQemuDisplay::client_grab_calls() const { return clipboard_->client_grab_calls; }
bool FakeQemuDisplay::client_object_read() const { return clipboard_->client_object_read; }

bool FakeQemuDisplay::guest_copies(std::string bytes, std::uint32_t serial, bool as_text, bool crossing) {
    Clipboard& c = *clipboard_;
    // qemu_clipboard_check_serial(info, client=false): the guest loses a tie.
    if (!crossing && c.owner != Clipboard::Owner::None && serial <= c.serial)
        return false;
    if (!crossing) {
        c.owner = Clipboard::Owner::Guest;
        c.serial = serial;
        c.guest_bytes = std::move(bytes);
    }
    if (!c.registered)
        return true;
    sd_bus_message* raw = nullptr;
    check(sd_bus_message_new_method_call(bus_.get(), &raw, nullptr, clipboard_path, clipboard_interface, "Grab"),
          "new Grab");
    detail::MessagePtr m(raw);
    check(sd_bus_message_append(raw, "uu", 0u, serial), "append Grab");
    if (as_text)
        check(append_text_mime(raw), "append mimes");
    else
        check(sd_bus_message_append_strv(raw, nullptr), "append mimes");
    sd_bus_slot* slot = nullptr;
    check(sd_bus_call_async(
              bus_.get(), &slot, raw,
              [](sd_bus_message* r, void* d, sd_bus_error*) -> int {
                  if (!sd_bus_message_is_method_error(r, nullptr))
                      ++static_cast<FakeQemuDisplay*>(d)->clipboard_->client_grab_calls;
                  return 0;
              },
              this, 0),
          "calling the client's Grab");
    c.client_calls.emplace_back(slot);
    if (source_)
        source_->rearm();
    return true;
}

std::shared_ptr<PasteOutcome> FakeQemuDisplay::guest_pastes() {
    auto outcome = std::make_shared<PasteOutcome>();
    Clipboard& c = *clipboard_;
    if (!c.registered || c.owner != Clipboard::Owner::Client) {
        outcome->answered = true;
        outcome->error = "the client does not own the clipboard";
        return outcome;
    }
    sd_bus_message* raw = nullptr;
    check(sd_bus_message_new_method_call(bus_.get(), &raw, nullptr, clipboard_path, clipboard_interface, "Request"),
          "new Request");
    detail::MessagePtr m(raw);
    check(sd_bus_message_append(raw, "u", 0u), "append Request");
    check(append_text_mime(raw), "append mimes");
    sd_bus_slot* slot = nullptr;
    check(sd_bus_call_async(
              bus_.get(), &slot, raw,
              [](sd_bus_message* r, void* d, sd_bus_error*) -> int {
                  auto* out = static_cast<PasteOutcome*>(d);
                  out->answered = true;
                  if (const sd_bus_error* e = sd_bus_message_get_error(r)) {
                      out->error = e->message ? e->message : e->name;
                      return 0;
                  }
                  const char* mime = nullptr;
                  const void* bytes = nullptr;
                  std::size_t size = 0;
                  if (sd_bus_message_read(r, "s", &mime) < 0 || sd_bus_message_read_array(r, 'y', &bytes, &size) < 0) {
                      out->error = "malformed Request reply";
                      return 0;
                  }
                  out->mime = mime;
                  out->text.assign(static_cast<const char*>(bytes), size);
                  return 0;
              },
              outcome.get(), 0),
          "calling the client's Request");
    // The outcome outlives the slot only while the test holds it; keep both here.
    c.client_calls.emplace_back(slot);
    c.outcomes.push_back(outcome);
    if (source_)
        source_->rearm();
    return outcome;
}

} // namespace phyllome::guestview::testing
