// phyllomectl's verbs: one handler per verb behind a table (as sway's commands/), each taking
// only the narrow CommandTarget below, never the server.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "compositor/control_protocol.hpp"
#include "compositor/control_server.hpp"
#include "compositor/status.hpp"
#include "guestview/guest_inventory.hpp"

namespace phyllome::compositor {
class UsbDevices;
}

namespace phyllome::compositor::commands {

using Reply = ControlServer::Reply;

// What the verbs may do to the running shell.
class CommandTarget {
public:
    virtual ~CommandTarget() = default;
    virtual StatusSnapshot status() const = 0;
    virtual guestview::GuestInventory& inventory() = 0;
    virtual bool show_guest(const std::string& name, std::string& error) = 0;
    // Why the guest's head `head` cannot be shot (no such head, not on any output), or empty.
    virtual std::string head_problem(const std::string& guest, std::uint32_t head) const = 0;
    virtual void show_overlay() = 0;
    // Shows the next (+1) or previous (-1) running guest; the guest shown after it, or empty.
    virtual std::string show_adjacent_guest(int direction) = 0;
    // A new guest's defaults on this host (disk folder, 3D where the host has it).
    virtual guestview::GuestSpec new_guest_spec(std::string name) const = 0;
    // Answers `reply` when the inventory reports `action` on `guest` done or failed.
    virtual void reply_when_done(guestview::Action action, std::string guest, Reply reply) = 0;
    // Headless outputs (tests, screenless hosts); the new output's name, or empty with `error`.
    virtual std::string add_output(int width, int height, std::string& error) = 0;
    virtual bool remove_output(const std::string& name, std::string& error) = 0;
    virtual void quit() = 0;
    // Runs the configured locker; answers `reply` once the session is locked or the locker failed.
    virtual void lock_session(Reply reply) = 0;
    // The host's USB devices and who has each (usb_devices.hpp).
    virtual UsbDevices& usb_devices() = 0;
};

using Handler = void (*)(const control::Request& request, CommandTarget& target, Reply reply);

// The handler of every verb control::Request knows.
Handler handler_for(control::Request::Verb verb);
// A locked kiosk answers only these (looking, locking, and an admin's quit); the rest are refused.
bool allowed_in_locked_kiosk(control::Request::Verb verb);

// The handlers, one file each.
void status(const control::Request&, CommandTarget&, Reply);
void status_json(const control::Request&, CommandTarget&, Reply);
void show(const control::Request&, CommandTarget&, Reply);
void overlay(const control::Request&, CommandTarget&, Reply);
void next(const control::Request&, CommandTarget&, Reply);
void prev(const control::Request&, CommandTarget&, Reply);
void power(const control::Request&, CommandTarget&, Reply); // start, shutdown, destroy
void screenshot(const control::Request&, CommandTarget&, Reply);
void identity(const control::Request&, CommandTarget&, Reply);
void adopt(const control::Request&, CommandTarget&, Reply);
void remove(const control::Request&, CommandTarget&, Reply);
void create(const control::Request&, CommandTarget&, Reply);
void output_add(const control::Request&, CommandTarget&, Reply);
void output_remove(const control::Request&, CommandTarget&, Reply);
void quit(const control::Request&, CommandTarget&, Reply);
void eject(const control::Request&, CommandTarget&, Reply);
void lock(const control::Request&, CommandTarget&, Reply);
// Long jobs (jobs.cpp): start one, list them, one's state for phyllomectl to follow, cancel.
void job_start(const control::Request&, CommandTarget&, Reply);
void jobs(const control::Request&, CommandTarget&, Reply);
void jobs_json(const control::Request&, CommandTarget&, Reply);
void job_query(const control::Request&, CommandTarget&, Reply);
void job_cancel(const control::Request&, CommandTarget&, Reply);
void snapshots(const control::Request&, CommandTarget&, Reply);
// USB devices (usb.cpp): list, give, take back, remember.
void usb(const control::Request&, CommandTarget&, Reply);
void usb_json(const control::Request&, CommandTarget&, Reply);
void usb_attach(const control::Request&, CommandTarget&, Reply);
void usb_detach(const control::Request&, CommandTarget&, Reply);
void usb_remember(const control::Request&, CommandTarget&, Reply);

} // namespace phyllome::compositor::commands
