// The shell's configuration: plain data with documented defaults, no I/O, no wlroots.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace phyllome::config {

enum class LogLevel { Error, Warning, Info, Debug };

struct Mode {
    int width = 0;
    int height = 0;
    int refresh_mhz = 0; // 0: pick the best refresh for the size
    bool operator==(const Mode&) const = default;
};

// How an output's picture is turned: counter-clockwise by 0, 90, 180 or 270 degrees, optionally
// flipped first. The values are wl_output_transform's, so the compositor converts by a cast.
enum class Transform { Normal, Rotate90, Rotate180, Rotate270, Flipped, Flipped90, Flipped180, Flipped270 };

struct OutputConfig {
    bool enabled = true;
    std::optional<Mode> mode;               // unset: the output's preferred mode
    std::optional<std::pair<int, int>> position; // unset: laid out left to right
    double scale = 1.0;
    Transform transform = Transform::Normal;
    bool operator==(const OutputConfig&) const = default;
};

struct KeyboardConfig {
    std::string layout;  // empty: xkbcommon's default (XKB_DEFAULT_LAYOUT or "us")
    std::string variant;
    std::string options;
    std::string model;
    int repeat_rate = 25;   // keys per second
    int repeat_delay = 600; // ms
    bool operator==(const KeyboardConfig&) const = default;
};

struct PointerConfig {
    bool tap_to_click = true;
    bool natural_scroll = false;
    bool left_handed = false;
    double acceleration = 0.0;          // libinput speed, -1.0 .. 1.0
    std::string accel_profile = "adaptive"; // "adaptive" | "flat"
    bool operator==(const PointerConfig&) const = default;
};

// Who may watch and type: protocols that let any client of the session capture the guests'
// screens or inject input into them, offered only when allowed (tests and the demo allow them).
struct SecurityConfig {
    bool allow_screencopy = false;    // wlr-screencopy (grim, screen recorders)
    bool allow_virtual_input = false; // virtual-keyboard / virtual-pointer protocols (wtype, on-screen keyboards)
    bool allow_data_control = false;  // wlr-data-control (wl-paste, clipboard managers): reads the clipboard unasked
    bool operator==(const SecurityConfig&) const = default;
};

// Colours are 0xRRGGBB.
struct OverlayConfig {
    std::string font = "Sans";
    int font_size = 14; // points at scale 1
    std::uint32_t background = 0x1b1d23;
    std::uint32_t foreground = 0xe6e6e6;
    std::uint32_t accent = 0x4f9dde;
    std::uint32_t error = 0xe5534b;
    bool operator==(const OverlayConfig&) const = default;
};

// A host application the overlay can launch (a terminal, virt-manager).
struct App {
    std::string name;
    std::string command; // run with /bin/sh -c
    bool operator==(const App&) const = default;
};

struct HotkeyConfig {
    std::string host_key = "Control_R"; // xkb keysym name of the host modifier key
    // xkb keysym names pressed together with the host key:
    std::string overlay = "Home";
    std::string next = "Right";
    std::string previous = "Left";
    std::string ctrl_alt_delete = "Delete";
    std::string copy = "c";  // the shown guest's clipboard into the shell's; empty: none
    std::string paste = "v"; // the shell's clipboard offered to the shown guest; empty: none
    bool operator==(const HotkeyConfig&) const = default;
};

// What kiosk mode does when its guest stops.
enum class GuestExitPolicy { Restart, Overlay, Exit };

// Kiosk mode: one guest fullscreen, no switching, no overlay unless admin_key is set.
struct KioskConfig {
    std::string guest;                  // empty: no kiosk; `--kiosk NAME` overrides
    GuestExitPolicy on_guest_exit = GuestExitPolicy::Restart; // "restart" | "overlay" | "exit"
    std::string admin_key;              // empty: none; else a keysym name that with the host key opens the overlay in kiosk mode
    int restart_delay_ms = 2000;        // after a crash; doubles after each crash in a row
    int restart_delay_max_ms = 60000;   // always >= restart_delay_ms after parsing
    bool operator==(const KioskConfig&) const = default;
};

// How the shell tells the user which guest they are looking at.
struct IdentityConfig {
    bool banner = true;                 // guest name banner on every switch
    int banner_ms = 1200;               // shown this long, then fades
    bool edge = false;                  // a thin persistent edge in the guest's colour
    int edge_width = 3;                 // logical pixels, 1..32
    bool operator==(const IdentityConfig&) const = default;
};

// The screen lock: a locker speaking ext-session-lock-v1, run on Host+key, on `phyllomectl lock`
// and after the user has been idle for a while.
struct LockConfig {
    // Run with /bin/sh -c. Not swaylock -f: a locker that forks away is no longer the shell's child
    // (its end is not seen) and its Wayland connection names the parent that exited.
    std::string command = "swaylock -c 000000";
    std::string key = "l";                          // keysym name pressed with the host key; empty: none
    // Seconds without input before the shell locks; 0: never. Unset: 600, but 0 in kiosk mode.
    std::optional<int> idle_timeout_s;
    int effective_idle_timeout_s(bool kiosk) const { return idle_timeout_s.value_or(kiosk ? 0 : 600); }
    bool operator==(const LockConfig&) const = default;
};

// The guests' sound (PipeWire): the shown guest plays; hidden ones are muted unless "play".
struct AudioConfig {
    std::string hidden = "mute"; // "mute" | "play"
    std::string mic_key = "m";   // keysym name: with the host key, the shown guest's microphone on/off; empty: none
    bool operator==(const AudioConfig&) const = default;
};

// The clipboard moved by Host+C and Host+V (text only).
struct ClipboardConfig {
    int max_bytes = 1 << 20; // larger copies are refused with a notice
    bool operator==(const ClipboardConfig&) const = default;
};

// Long jobs on guests (phyllomectl backup, the overlay's B).
struct JobsConfig {
    // Where the overlay's "back up" writes; "~/" is the home folder. Empty: ~/Backups.
    std::string backup_directory;
    // Other hosts' libvirt the overlay offers to move a guest to (phyllomectl move takes any).
    std::vector<std::string> move_destinations;
    bool operator==(const JobsConfig&) const = default;
};

// One [[usb.device]] entry: a device by id (and serial) that is always given to a guest, or
// never to any.
struct UsbDeviceRule {
    std::string id;     // "0781:5581", lower-case
    std::string serial; // empty: any device with the id
    std::string always; // a guest's name; empty when `never`
    bool never = false;
    bool operator==(const UsbDeviceRule&) const = default;
};

// USB devices plugged into the host (issue 18).
struct UsbConfig {
    std::string key = "u"; // keysym name: with the host key, the newest offered device to the shown guest or back; empty: none
    // Kinds never given without asking (guestview::usb's names: "keyboard", "mouse", "storage", ...).
    std::vector<std::string> ask_first = {"keyboard", "mouse"};
    std::vector<UsbDeviceRule> devices;
    bool operator==(const UsbConfig&) const = default;
};

// The kind names [usb] ask_first takes, as guestview::usb::to_string(UsbKind) spells them.
const std::vector<std::string>& usb_kind_names();

struct Config {
    std::string libvirt_uri; // empty: automatic (see guestview::choose_libvirt_uri)
    LogLevel log_level = LogLevel::Info;
    std::map<std::string, OutputConfig> outputs; // by output name, e.g. "HEADLESS-1"
    KeyboardConfig keyboard;
    PointerConfig pointer;
    SecurityConfig security;
    OverlayConfig overlay;
    HotkeyConfig hotkeys;
    KioskConfig kiosk;
    IdentityConfig identity;
    LockConfig lock;
    AudioConfig audio;
    ClipboardConfig clipboard;
    JobsConfig jobs;
    UsbConfig usb;
    std::vector<App> apps;
    // Lets a reload tell whether anything changed.
    bool operator==(const Config&) const = default;
};

struct Diagnostic {
    enum class Severity { Warning, Error };
    Severity severity = Severity::Error;
    std::string source; // file path, or "<string>"
    int line = 0;       // 1-based, 0 when unknown
    int column = 0;
    std::string key;    // dotted key, e.g. "keyboard.repeat_rate"; empty for syntax errors
    std::string message;
    // "FILE:LINE:COL: error: keyboard.repeat_rate: must be an integer between 1 and 1000"
    std::string to_string() const;
};

struct LoadResult {
    Config config;
    std::string path; // the file read; empty when running on built-in defaults
    std::vector<Diagnostic> diagnostics;
    bool has_errors() const;
};

// Parses TOML text. A syntax error yields built-in defaults plus one error; a bad value
// keeps that key's default and reports it; an unknown key is a warning.
LoadResult parse(std::string_view text, std::string_view source = "<string>");

// Reads `path`, or when empty the first existing of $XDG_CONFIG_HOME/phyllome/shell.toml
// (~/.config when unset) and SYSCONFDIR/phyllome/shell.toml. A missing explicit file is an
// error; no file at all gives defaults with no diagnostics.
LoadResult load(const std::string& explicit_path, std::string_view sysconfdir);

// Parses "1280x800" or "1920x1080@59.94".
std::optional<Mode> parse_mode(std::string_view text);
std::string_view to_string(LogLevel);
std::string_view to_string(GuestExitPolicy); // "restart", "overlay", "exit"
std::string_view to_string(Transform);       // "normal", "90", ..., "flipped-270"

} // namespace phyllome::config
