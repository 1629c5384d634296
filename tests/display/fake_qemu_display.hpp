// A protocol peer standing in for QEMU's D-Bus display (-display dbus,p2p=on) in tests.
// Like QEMU it is the D-Bus *authentication server* on the main connection and on every
// listener socket; on the listener it is also the caller of the Listener methods. It runs
// on the same wl_event_loop as the code under test, so tests drive both by dispatching.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "guestview/display/bus_event_source.hpp"
#include "guestview/display/bus_handles.hpp"

namespace phyllome::guestview::testing {

struct FakeConsoleConfig {
    std::string type = "Graphic";
    std::string label = "virtio-gpu-pci";
    std::uint32_t head = 0;
    std::uint32_t width = 1280;
    std::uint32_t height = 800;
    bool mouse_is_absolute = false;
    std::uint32_t modifiers = 0;
    bool ui_info_supported = true;
    bool lists_interfaces = true; // the Interfaces property (QEMU 8.1+); false: like 7.2
    std::string device_address = "pci/0000/01.0";
};

struct InputCall {
    std::uint32_t console = 0;
    std::string method; // "Keyboard.Press", "Mouse.SetAbsPosition", "Console.SetUIInfo", ...
    std::vector<std::int64_t> args;
    bool operator==(const InputCall&) const = default;
};

// What the fake learnt when it read the client's Listener properties after registration.
struct ListenerProbe {
    bool answered = false;
    std::string error; // empty: GetAll succeeded
    std::vector<std::string> interfaces;
};

struct CallOutcome {
    bool answered = false;
    std::string error; // empty: method return
};

// The guest pasted: what the client answered QEMU's call of its Clipboard.Request.
struct PasteOutcome {
    bool answered = false;
    std::string error; // empty: method return
    std::string mime;
    std::string text;
};

class FakeQemuDisplay {
public:
    FakeQemuDisplay(wl_event_loop* loop, std::string vm_name, std::vector<FakeConsoleConfig> consoles);
    ~FakeQemuDisplay();
    FakeQemuDisplay(const FakeQemuDisplay&) = delete;
    FakeQemuDisplay& operator=(const FakeQemuDisplay&) = delete;

    // Serves on a socketpair; returns the client's end (ownership passes to the caller).
    int client_socket();
    // Serves the first connection made to a unix socket at `path`; returns the address.
    std::string listen_unix(const std::string& path);

    bool main_connected() const;
    bool listener_connected(std::uint32_t console) const;
    const ListenerProbe& probe(std::uint32_t console) const;
    int register_calls() const { return register_calls_; }

    // Listener messages, sent as QEMU sends them (no reply expected).
    void scanout(std::uint32_t console, std::uint32_t width, std::uint32_t height, std::uint32_t stride,
                 std::uint32_t format, std::span<const std::uint8_t> data);
    void update(std::uint32_t console, std::int32_t x, std::int32_t y, std::int32_t width, std::int32_t height,
                std::uint32_t stride, std::uint32_t format, std::span<const std::uint8_t> data);
    void update_map(std::uint32_t console, std::int32_t x, std::int32_t y, std::int32_t width, std::int32_t height);
    void scanout_dmabuf(std::uint32_t console, int fd, std::uint32_t width, std::uint32_t height,
                        std::uint32_t stride, std::uint32_t fourcc, std::uint64_t modifier, bool y0_top);
    void disable(std::uint32_t console);
    void mouse_set(std::uint32_t console, std::int32_t x, std::int32_t y, bool visible);
    void cursor_define(std::uint32_t console, std::int32_t width, std::int32_t height, std::int32_t hot_x,
                       std::int32_t hot_y, std::span<const std::uint8_t> argb);
    // Calls QEMU waits for; the outcome fills in when the client answers.
    std::shared_ptr<CallOutcome> scanout_map(std::uint32_t console, int memfd, std::uint32_t offset,
                                             std::uint32_t width, std::uint32_t height, std::uint32_t stride,
                                             std::uint32_t format);
    std::shared_ptr<CallOutcome> update_dmabuf(std::uint32_t console, std::int32_t x, std::int32_t y,
                                               std::int32_t width, std::int32_t height);
    // Any Listener method with any arguments, for malformed messages. Negative errno if
    // sd-bus itself refused to build or send it.
    int send_raw(std::uint32_t console, const char* interface, const char* member,
                 const std::function<int(sd_bus_message*)>& append);

    // Property changes, announced with PropertiesChanged as QEMU does.
    void set_console_size(std::uint32_t console, std::uint32_t width, std::uint32_t height);
    void set_modifiers(std::uint32_t console, std::uint32_t modifiers);
    void set_mouse_absolute(std::uint32_t console, bool absolute);

    void close_main();
    void close_listener(std::uint32_t console);

    // Fault modes: a QEMU that misbehaves.
    // Keeps reading every socket but answers no method call (a wedged QEMU main loop that
    // still drains its sockets): the client's calls can only time out.
    void set_mute(bool mute) { mute_ = mute; }
    // Stops servicing every connection (a stopped QEMU process): nothing is read, written or
    // answered until resume(); the sockets stay open.
    void stall();
    void resume();
    bool stalled() const { return stalled_; }
    // Sends a (large) Update on a small socket send buffer and closes every connection at once,
    // so the client gets the message's first part and then end of file.
    void update_then_hang_up(std::uint32_t console, std::int32_t x, std::int32_t y, std::int32_t width,
                             std::int32_t height, std::uint32_t stride, std::uint32_t format,
                             std::span<const std::uint8_t> data);
    // The kernel send buffer of the console's listener socket (root may exceed wmem_max): how
    // much of a message goes out in one write.
    void set_send_buffer(std::uint32_t console, int bytes);
    // True while the console's listener has output the client has not read yet (a flood waits
    // on this instead of queueing without limit in the test process).
    bool listener_backlogged(std::uint32_t console) const;

    // More objects on the main connection (the Audio object of fake_qemu_audio.hpp), exported
    // whenever a client connects. Add before the client connects.
    void add_exporter(std::function<void(sd_bus* bus)> export_more) { exporters_.push_back(std::move(export_more)); }
    // QEMU's Clipboard with QEMU's rules (fake_qemu_display_clipboard.cpp): the client must have
    // registered (Unregister first if registered_by_earlier_peer), Grab serials lower than the
    // current owner's lose, a tie goes to the client. What the client called, in order:
    // "Unregister", "Register", "Grab <serial>", "Release", "Request".
    const std::vector<std::string>& clipboard_calls() const;
    bool clipboard_registered() const;
    // QEMU 7.2 after a client's connection closed: a new Register fails unless Unregister came first.
    void clipboard_registered_by_earlier_peer();
    // The guest copies `bytes` (its agent grabs with `serial`): the client's Grab is called unless
    // the serial loses against the current owner's. False when it lost. `crossing`: QEMU's check
    // is skipped (a grab that crossed the client's on the wire reaches the client anyway).
    bool guest_copies(std::string bytes, std::uint32_t serial, bool as_text = true, bool crossing = false);
    // The guest pastes: the client's Request is called if the client owns the clipboard.
    std::shared_ptr<PasteOutcome> guest_pastes();
    // The guest's agent never answers the client's Request (a hung spice-vdagent).
    void set_clipboard_agent_hung(bool hung);
    // Request is answered with a string where the bytes should be (a broken peer).
    void set_clipboard_reply_malformed(bool malformed);
    // Calls the client answered: its Register (QEMU resets serials after registration) and Grab.
    int client_register_calls() const;
    int client_grab_calls() const;
    // Whether the client took part in QEMU's registration: QEMU reads our object's properties
    // (GetAll) before it answers Register.
    bool client_object_read() const;

    const std::vector<InputCall>& input_calls() const { return input_calls_; }
    bool qemu_would_abort() const { return qemu_would_abort_; }

    struct Console;
    struct Listener;
    struct Clipboard;

private:
    void serve(int fd);
    void export_objects();
    void export_clipboard();
    void emit_changed(std::uint32_t console, const char* interface, const char* property);
    sd_bus* listener_bus(std::uint32_t console) const;
    void send_no_reply(std::uint32_t console, sd_bus_message* message);
    std::shared_ptr<CallOutcome> call(std::uint32_t console, sd_bus_message* message);

    static int on_register_listener(sd_bus_message* m, void* data, sd_bus_error* error);
    static int on_set_ui_info(sd_bus_message* m, void* data, sd_bus_error* error);
    static int on_input(sd_bus_message* m, void* data, sd_bus_error* error);
    static int on_accept(int fd, std::uint32_t mask, void* data);
    static int on_incoming(sd_bus_message* m, void* data, sd_bus_error* error);
    void watch_main();

    wl_event_loop* loop_;
    std::string vm_name_;
    std::vector<std::uint32_t> console_ids_;
    std::map<std::uint32_t, std::unique_ptr<Console>> consoles_;
    std::map<std::uint32_t, std::unique_ptr<Listener>> listeners_;
    std::vector<InputCall> input_calls_;
    std::vector<std::function<void(sd_bus*)>> exporters_;
    std::unique_ptr<Clipboard> clipboard_;
    int register_calls_ = 0;
    bool qemu_would_abort_ = false;
    detail::BusPtr bus_;
    std::vector<detail::SlotPtr> object_slots_;
    std::unique_ptr<detail::BusEventSource> source_;
    detail::UniqueFd listen_fd_;
    detail::EventSourcePtr accept_source_;
    std::string listen_path_;
    detail::SlotPtr mute_filter_;
    bool mute_ = false;
    bool stalled_ = false;
};

} // namespace phyllome::guestview::testing
