// The control socket's wire format, shared by the shell and phyllomectl.
// Request: one line "VERB [ARG]\n" (at most max_request bytes).
// Reply: "ok\n" or "error\n", then a body, then the server closes the connection.
// A screenshot's body is its MIME type, a newline, then the image bytes.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace phyllome::compositor::control {

constexpr std::size_t max_request = 4096;

struct Request {
    enum class Verb { Status, StatusJson, Start, Shutdown, Destroy, Show, Overlay, Next, Prev, Screenshot, Identity, Adopt, Create, Quit,
                      OutputAdd, OutputRemove, Remove, Eject, Lock,
                      // Long jobs (control_job_requests.cpp): start one, list them, one's state, cancel.
                      JobStart, Jobs, JobsJson, JobQuery, JobCancel, Snapshots,
                      // USB devices (control_usb_requests.cpp): list, give, take back, remember.
                      Usb, UsbJson, UsbAttach, UsbDetach, UsbRemember };
    Verb verb = Verb::Status;
    std::string guest; // for Start/Shutdown/Destroy/Remove/Show/Screenshot/Identity/Adopt/Eject
    // Identity: "slot=N" / "slot=none", "colour=#rrggbb" / "colour=none"; unset: keep as it is.
    std::optional<std::string> slot;
    std::optional<std::string> colour;
    // Create: option=value pairs (iso, disk-size, memory, cpus), values percent-encoded.
    std::map<std::string, std::string> options;
    // OutputAdd: the size; OutputRemove: the output's name (headless backend only).
    int width = 0, height = 0;
    std::string output;
};

// Percent-encoding for values that may hold spaces (paths).
std::string encode_value(std::string_view value);
std::string decode_value(std::string_view value);
// Reads the leading "key=value" words of `words` (values percent-encoded) into `options`; returns
// the rest (a guest name, which may hold spaces).
std::string_view take_options(std::string_view words, std::map<std::string, std::string>& options);

// "VERB key=value… [NAME]\n": the request's options (values percent-encoded), then its guest;
// what take_options() reads back.
std::string format_with_options(std::string_view verb, const Request& r);

// A parse failure carries the message to send back.
std::variant<Request, std::string> parse_request(std::string_view line);
std::string format_request(const Request& r);

// The job verbs, on the wire (phyllomectl builds them from its own command line):
//   "job kind=KIND [target=V] [source=V] [secrets=1] [NAME]"  values percent-encoded; KIND is
//                                                              guestview::slug(JobKind)
//   "jobs" / "jobs --json", "job-state ID", "cancel ID", "snapshots NAME"
// nullopt when `verb` is none of them.
std::optional<std::variant<Request, std::string>> parse_job_request(std::string_view verb, std::string_view arg);
std::string format_job_request(const Request& r);

// The USB verbs, on the wire:
//   "usb" / "usb --json"                                  the host's devices and who holds each
//   "usb-attach device=SPEC [force=1] NAME"               give one to the guest NAME
//   "usb-detach device=SPEC"                              take it back
//   "usb-remember device=SPEC choice=always|never|forget NAME"  the guest's remembered choice
// SPEC (percent-encoded) is a sysname ("1-2"), an id ("0781:5581"), a serial or a name.
std::optional<std::variant<Request, std::string>> parse_usb_request(std::string_view verb, std::string_view arg);
std::string format_usb_request(const Request& r);

// The socket phyllomectl should use: $PHYLLOME_SOCKET, else the one phyllome-shell.*.sock in
// $XDG_RUNTIME_DIR. On failure returns nullopt and sets `error`.
std::optional<std::string> find_socket(std::string& error);
// $XDG_RUNTIME_DIR/phyllome-shell.<WAYLAND_DISPLAY>.sock
std::string socket_path_for(std::string_view runtime_dir, std::string_view wayland_display);

} // namespace phyllome::compositor::control
