// A snapshot of what the shell shows, for phyllomectl. Plain data, formatted without wlroots.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "compositor/audio_status.hpp"
#include "compositor/lock_keys.hpp"
#include "compositor/overlay_model.hpp"
#include "compositor/usb_status.hpp"
#include "guestview/display/clipboard_types.hpp"
#include "guestview/guest_inventory.hpp"

namespace phyllome::compositor {

struct OutputStatus {
    std::string name;
    int width = 0, height = 0; // pixels of the current mode
    double scale = 1.0;
    int x = 0, y = 0;
    bool scanout = false;             // showing a guest frame's own buffer now (direct scan-out)
    std::uint64_t scanout_commits = 0; // commits that did so
    std::string transform = "normal";  // as the config writes it: "90", "flipped-180", ...
    bool enabled = true;               // false: off (by the config, a layout tool or DPMS)
    std::optional<std::string> guest;  // the guest it shows, and which of its heads
    std::optional<std::uint32_t> head;
};

struct ScanoutStatus {
    int width = 0, height = 0;
    std::string path; // "copy" | "map" | "dmabuf"
};

struct GuestStatus {
    guestview::GuestInfo info;
    std::string display = "none"; // "connected" | "connecting" | "none" | "error"
    std::string display_error;
    std::optional<ScanoutStatus> scanout;
    std::uint64_t frames = 0;       // frame messages received
    std::uint64_t copies = 0;       // CPU copies of pixels made by the shell
    std::uint64_t bytes_copied = 0;
    std::uint64_t refused = 0;      // malformed messages dropped
    std::uint64_t frames_presented = 0;
    std::optional<double> present_p50_ms; // frame received -> output commit showing it
    std::optional<double> present_p99_ms;
    int number = 0;          // Host+number shows it; 0: none (manual displays)
    std::uint32_t colour = 0; // 0xRRGGBB, from its metadata or its name
    std::optional<LockKeys> leds; // its keyboard LEDs, once its display is read
};

// A host application's window (switched to like a guest).
struct WindowStatus {
    std::uint64_t id = 0;
    std::string title; // its title, else its app id
    std::string app_id;
    int number = 0; // Host+number; 0: none
    bool shown = false;
};

// The shell's clipboard: how much and from where, never what.
struct ClipboardStatus {
    struct Guest {
        std::string name;
        guestview::ClipboardState state;
    };
    std::size_t characters = 0;
    std::size_t bytes = 0;
    std::string source;          // the guest it was copied from, "host", or empty
    bool host_selection = false; // a host application's copy is the seat's selection now
    std::vector<Guest> guests;   // each connected display's clipboard peer
};

struct StatusSnapshot {
    std::string view = "overlay"; // "overlay" | "guest" | "window"
    std::optional<std::string> guest;
    std::vector<WindowStatus> windows;
    guestview::ConnectionStatus libvirt;
    std::vector<GuestStatus> guests;
    std::vector<OutputStatus> outputs;
    std::optional<std::size_t> selected;
    std::vector<OverlayRect> overlay_rows; // on the first output, layout coordinates
    std::vector<OverlayHitMap::Thumbnail> overlay_thumbnails; // the same; with a picture or not
    std::vector<OverlayHitMap::JobBar> overlay_job_bars;      // the same; each listed job's bar
    std::vector<OverlayHitMap::UsbRow> overlay_usb_rows;      // the same; each USB device's row
    std::size_t thumbnails_shown = 0;         // with a guest's picture now, every output
    std::uint64_t thumbnail_refreshes = 0;    // thumbnails redrawn since start
    std::string overlay_notice;            // the overlay's line telling what happened
    // The overlay's new-guest card, while it is open (copied: the snapshot is plain data).
    std::optional<NewGuestCard> new_guest;
    std::optional<GuestCard> guest_card; // the overlay's guest card, while it is open
    std::string config_path;
    std::vector<std::string> config_problems;
    std::optional<double> first_frame_ms; // process start -> first frame committed
    // When that was, on CLOCK_MONOTONIC: a benchmark that started the process knows when it
    // forked, more precisely than the kernel's 10 ms start time.
    std::optional<double> first_frame_at_ms;
    std::optional<double> last_switch_ms; // hotkey -> commit with the new guest's picture
    std::string scheduling; // the CPU priority obtained (compositor/scheduling.hpp)
    std::string host; // the host readiness summary line
    std::optional<std::string> kiosk_guest;
    std::string kiosk_message;
    bool locked = false;               // the session lock's blank covers every output
    std::optional<int> locker_pid;     // the locker holding the lock, by its Wayland connection
    int idle_timeout_s = 0;            // the idle lock in effect; 0: off
    LockKeys keyboard_locks;           // the host's Caps, Num and Scroll Lock
    ClipboardStatus clipboard;         // sizes and origin, never the text
    long rss_kb = 0;
    long rss_anon_kb = 0, rss_file_kb = 0, rss_shmem_kb = 0; // see ResidentParts
    // Of rss_kb, the pixel buffers: guest frames the shell keeps and the outputs' pictures.
    long frame_buffers_kb = 0;
    double cpu_ms = 0; // user + system CPU time of the shell so far
    // The libvirt agent (agent/): its process id while it runs, and its resident set.
    std::optional<int> agent_pid;
    long agent_rss_kb = 0, agent_rss_anon_kb = 0, agent_rss_file_kb = 0;
    AudioStatus audio;
    std::vector<guestview::JobInfo> jobs; // running, then the last finished (job_status.hpp)
    std::vector<UsbEntry> usb;            // the host's USB devices and who has each (usb_status.hpp)
    std::string usb_problem;              // why they are not watched, or empty
};

std::string format_status_json(const StatusSnapshot& s);
std::string format_status_text(const StatusSnapshot& s);
std::string json_escape(std::string_view text);

} // namespace phyllome::compositor
