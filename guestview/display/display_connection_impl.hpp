// DisplayConnection's state; shared by display_connection.cpp (connection, properties,
// listeners) and display_input.cpp (input calls). Internal.
#pragma once

#include <cstdarg>
#include <functional>
#include <list>
#include <map>
#include <set>
#include <vector>

#include "guestview/display/bus_event_source.hpp"
#include "guestview/display/bus_handles.hpp"
#include "guestview/display/console_listener.hpp"
#include "guestview/display/display_clipboard.hpp"
#include "guestview/display/display_connection.hpp"

namespace phyllome::guestview {

class DisplayConnection::Impl {
public:
    struct ConsoleState {
        Impl* owner = nullptr;
        ConsoleInfo info;
        int property_reads_pending = 0; // console_changed fires once all initial reads are in
        std::vector<detail::SlotPtr> calls; // pending property reads and RegisterListener
        detail::SlotPtr ui_info_call;
        std::unique_ptr<detail::ConsoleListener> listener;
        FrameStats stats_before_listener; // kept when a listener closes
        std::set<std::uint32_t> held_keys;
        std::set<std::uint32_t> held_buttons;
        bool ui_info_unsupported = false;
    };

    Impl(wl_event_loop* loop, std::string guest_name, DisplayCallbacks callbacks);
    bool start(detail::BusPtr bus, std::string& error);

    const std::map<std::uint32_t, ConsoleState>& consoles() const { return consoles_; }
    ConsoleState* state(std::uint32_t id);
    const ConsoleState* state(std::uint32_t id) const;
    bool main_open() const { return main_open_; }
    bool anything_open() const;

    // Input (display_input.cpp).
    void key(std::uint32_t console, std::uint32_t qnum, bool pressed);
    void pointer_absolute(std::uint32_t console, std::uint32_t x, std::uint32_t y);
    void pointer_relative(std::uint32_t console, std::int32_t dx, std::int32_t dy);
    void button(std::uint32_t console, std::uint32_t button, bool pressed);
    void set_ui_info(std::uint32_t console, std::uint16_t width_mm, std::uint16_t height_mm, std::uint32_t width,
                     std::uint32_t height);
    void release_all_input(std::uint32_t console);
    void register_listener_fd(const char* path, const char* interface, const char* method, int fd,
                              std::function<void(std::string error)> done);

    detail::DisplayClipboard* clipboard() { return clipboard_.get(); }
    const detail::DisplayClipboard* clipboard() const { return clipboard_.get(); }

    InputStats input_stats;
    wl_event_loop* const loop;
    const std::string guest_name;
    VmInfo vm;

private:
    static int on_vm_properties(sd_bus_message* reply, void* data, sd_bus_error* error);
    static int on_console_properties(sd_bus_message* reply, void* data, sd_bus_error* error);
    static int on_properties_changed(sd_bus_message* signal, void* data, sd_bus_error* error);
    static int on_register_reply(sd_bus_message* reply, void* data, sd_bus_error* error);
    static int on_input_reply(sd_bus_message* reply, void* data, sd_bus_error* error);
    static int on_ui_info_reply(sd_bus_message* reply, void* data, sd_bus_error* error);

    void read_console(std::uint32_t id);
    void attach_listener(ConsoleState& console);
    void on_main_closed(std::string reason);
    // A setup call failed or timed out: close everything, so the owner retries afresh instead
    // of waiting forever for a display that will never attach. Finishes from an idle source:
    // sd-bus must not be closed inside its own dispatch.
    void abandon(std::string reason);
    static void on_abandon(void* data);
    int call_with_timeout(const char* path, const char* interface, const char* method, sd_bus_slot** slot,
                          sd_bus_message_handler_t handler, void* data, const char* signature, ...);
    // Both above and call_console: queues the call and wakes the loop for its write and reply.
    int call_async(const char* path, const char* interface, const char* method, sd_bus_slot** slot,
                   sd_bus_message_handler_t handler, void* data, std::uint64_t timeout_usec, const char* signature,
                   va_list args);
    void on_listener_closed(std::uint32_t id, std::string reason);
    // Queues a call on Console_<id> whose only answer of interest is an error.
    int call_console(std::uint32_t id, sd_bus_slot** slot, sd_bus_message_handler_t handler, void* data,
                     const char* interface, const char* method, const char* signature, ...);
    void send_input(std::uint32_t id, const char* interface, const char* method, const char* signature,
                    std::uint32_t a, std::uint32_t b = 0);

    DisplayCallbacks callbacks_;
    // Declared first so it is destroyed last: everything below holds slots on it.
    detail::BusPtr bus_;
    detail::SlotPtr properties_match_;
    detail::SlotPtr vm_call_;
    std::unique_ptr<detail::BusEventSource> source_;
    std::unique_ptr<detail::DisplayClipboard> clipboard_; // holds slots on bus_
    std::map<std::uint32_t, ConsoleState> consoles_;
    struct FdCall { // register_listener_fd in flight
        detail::SlotPtr slot;
        std::function<void(std::string)> done;
    };
    std::list<FdCall> fd_calls_;
    bool main_open_ = false;
    std::string abandon_reason_;
    detail::EventSourcePtr abandon_idle_;
};

} // namespace phyllome::guestview
