// The org.qemu.Display1.Listener object guestview serves for one console, on its own
// p2p connection (QEMU is the auth server, we are the client). Lives on the loop thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "guestview/display/bus_event_source.hpp"
#include "guestview/display/bus_handles.hpp"
#include "guestview/display/frame_assembler.hpp"

namespace phyllome::guestview::detail {

struct ListenerCallbacks {
    std::function<void(const FrameEvent&)> frame;
    std::function<void()> display_off;
    std::function<void(const CursorShape&)> cursor;
    std::function<void(const PointerPosition&)> pointer;
    // Last call a dispatch makes: the owner may destroy the listener in it.
    std::function<void(std::string reason)> closed;
};

// Interfaces listed in the Listener's `Interfaces` property: exactly what we implement.
inline constexpr const char* listener_extension_map = "org.qemu.Display1.Listener.Unix.Map";
// QEMU 10.1+ sends every dmabuf scanout through it when listed (multi-plane ones only then).
inline constexpr const char* listener_extension_dmabuf2 = "org.qemu.Display1.Listener.Unix.ScanoutDMABUF2";

class ConsoleListener {
    struct Key { explicit Key() = default; }; // construction goes through create()
public:
    ConsoleListener(Key, wl_event_loop* loop, std::string log_name, ListenerCallbacks callbacks);
    // Creates the socketpair and the exported, loop-attached listener connection.
    // `qemu_end` receives the socket to pass to Console.RegisterListener. nullptr with
    // `error` set on failure.
    static std::unique_ptr<ConsoleListener> create(wl_event_loop* loop, std::string log_name,
                                                   ListenerCallbacks callbacks, UniqueFd& qemu_end,
                                                   std::string& error);
    ~ConsoleListener();
    ConsoleListener(const ConsoleListener&) = delete;
    ConsoleListener& operator=(const ConsoleListener&) = delete;

    const FrameAssembler& frames() const { return assembler_; }
    // Replies to UpdateDMABUF number `serial` if it is still waiting.
    void reply_dmabuf_update(std::uint64_t serial);

    // How long the compositor may sample a dmabuf before we reply for it; QEMU itself
    // gives up after 1 s and blocks guest GL rendering until then.
    static constexpr int dmabuf_reply_fallback_ms = 100;

private:
    static int on_scanout(sd_bus_message* m, void* data, sd_bus_error* error);
    static int on_update(sd_bus_message* m, void* data, sd_bus_error* error);
    static int on_scanout_dmabuf(sd_bus_message* m, void* data, sd_bus_error* error);
    static int on_scanout_dmabuf2(sd_bus_message* m, void* data, sd_bus_error* error);
    static int on_update_dmabuf(sd_bus_message* m, void* data, sd_bus_error* error);
    static int on_disable(sd_bus_message* m, void* data, sd_bus_error* error);
    static int on_mouse_set(sd_bus_message* m, void* data, sd_bus_error* error);
    static int on_cursor_define(sd_bus_message* m, void* data, sd_bus_error* error);
    static int on_scanout_map(sd_bus_message* m, void* data, sd_bus_error* error);
    static int on_update_map(sd_bus_message* m, void* data, sd_bus_error* error);
    static int get_interfaces(sd_bus* bus, const char* path, const char* interface, const char* property,
                              sd_bus_message* reply, void* data, sd_bus_error* error);
    static int on_reply_timer(void* data);

    // Logs the refusal and answers with org.qemu.Display1.Error.Invalid (dropped by sd-bus
    // for the usual no-reply calls).
    int refuse(sd_bus_message* m, const std::string& what);
    // Same, for messages refused before the assembler saw them (counted here).
    int refuse_unassembled(sd_bus_message* m, const std::string& what);
    int deliver(sd_bus_message* m, AssemblyResult result);

    wl_event_loop* loop_;
    std::string log_name_;
    ListenerCallbacks callbacks_;
    FrameAssembler assembler_;
    BusPtr bus_;
    SlotPtr listener_slot_;
    SlotPtr map_slot_;
    SlotPtr dmabuf2_slot_;
    std::unique_ptr<BusEventSource> source_;
    MessagePtr pending_dmabuf_update_;
    std::uint64_t dmabuf_update_serial_ = 0;
    std::shared_ptr<ConsoleListener*> alive_; // SamplingDone tokens check this before replying
    EventSourcePtr reply_timer_;
};

} // namespace phyllome::guestview::detail
