// The guest's clipboard over org.qemu.Display1.Clipboard, moved only when the user asks.
//
// Both sides implement the interface on the main p2p connection: we export our Clipboard
// object (QEMU calls Register to reset serials, Grab/Release when the guest's clipboard changes,
// Request when the guest pastes what we offered) and call QEMU's. Nothing is read from the guest
// until take() (Host+C) and nothing offered until offer() (Host+V): a Grab from QEMU is only
// remembered. Text only (QEMU carries nothing else). Serials: the higher wins, on a tie the
// client (we) wins; QEMU's Register resets them to 0.
//
// QEMU's Register is called asynchronously (its handler reads our object's properties before it
// answers: a synchronous call deadlocks for 25 s) and after an Unregister (7.2 keeps a p2p peer
// registered after its connection closed: "Clipboard peer already registered").
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "guestview/display/bus_handles.hpp"
#include "guestview/display/clipboard_types.hpp"

namespace phyllome::guestview::detail {

class DisplayClipboard {
public:
    // `wake` re-arms the bus's event source after a call is queued outside a dispatch.
    DisplayClipboard(sd_bus* bus, std::string guest_name, std::function<void()> wake);
    DisplayClipboard(const DisplayClipboard&) = delete;
    DisplayClipboard& operator=(const DisplayClipboard&) = delete;

    // Exports our object and registers with QEMU; false with `error` if the object cannot be added.
    bool start(std::string& error);
    // Requests the guest's text if it holds a text grab; `done` gets it or why not.
    void take(std::size_t max_bytes, ClipboardDone done);
    // Grabs the guest's clipboard with `text`; the guest's Requests are answered with it until
    // the guest grabs again.
    void offer(std::string text, ClipboardDone done);
    ClipboardState state() const;

    // Answers from QEMU wait at most this long; QEMU itself gives a guest agent 5 s.
    static constexpr std::uint64_t call_timeout_usec = 6'000'000;

private:
    static int on_register(sd_bus_message* m, void* data, sd_bus_error* error);
    static int on_unregister(sd_bus_message* m, void* data, sd_bus_error* error);
    static int on_grab(sd_bus_message* m, void* data, sd_bus_error* error);
    static int on_release(sd_bus_message* m, void* data, sd_bus_error* error);
    static int on_request(sd_bus_message* m, void* data, sd_bus_error* error);
    static int on_register_reply(sd_bus_message* reply, void* data, sd_bus_error* error);
    static int on_take_reply(sd_bus_message* reply, void* data, sd_bus_error* error);
    static int on_offer_reply(sd_bus_message* reply, void* data, sd_bus_error* error);

    // Queues an async call on QEMU's Clipboard; `append` adds the arguments.
    int call(const char* method, sd_bus_slot** slot, sd_bus_message_handler_t handler,
             const std::function<int(sd_bus_message*)>& append);
    std::string reply_error(const sd_bus_error* e, const char* doing) const;
    ClipboardOutcome read_text(sd_bus_message* reply) const;

    struct GuestGrab {
        std::uint32_t serial = 0;
        bool has_text = false;
    };

    sd_bus* bus_;
    const std::string guest_name_;
    std::function<void()> wake_;
    SlotPtr object_;
    SlotPtr unregister_call_;
    SlotPtr register_call_;
    SlotPtr take_call_;
    SlotPtr offer_call_;
    bool registered_ = false;
    std::optional<GuestGrab> guest_grab_;
    std::optional<std::string> offered_;
    std::uint32_t serial_ = 0; // the highest serial seen or used since QEMU's last Register
    std::uint32_t offered_serial_ = 0;
    std::size_t take_limit_ = 0;
    ClipboardDone take_done_;
    ClipboardDone offer_done_;
};

} // namespace phyllome::guestview::detail
