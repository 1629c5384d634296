// The overlay's card for what one guest can become: its snapshots (Enter reverts, R R deletes),
// taking a snapshot, backing it up, its backups (Enter restores beside it), exporting it to one
// file, and moving it to a configured host. Each row starts a long job. Then one row per USB
// device plugged in: Enter changes what the guest remembers of it (ask, always, never). Pure
// logic, unit-tested.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "compositor/usb_handover.hpp"
#include "guestview/guest_inventory.hpp"

namespace phyllome::compositor {

class GuestCard {
public:
    using Clock = std::chrono::steady_clock;
    struct Row {
        enum class Kind { TakeSnapshot, Snapshot, BackUp, Restore, Export, Move, UsbChoice };
        Kind kind;
        std::string label;  // "Revert to “before the update”"
        std::string detail; // "5 Dec 14:03 · running", the backup's folder, the URI
        std::string value;  // the snapshot's name, the backup's folder, the destination URI, the device's port
        // UsbChoice: what the guest remembers of the device now; unset: nothing (it is offered).
        std::optional<UsbRemember> remembered;
        bool operator==(const Row&) const = default;
    };
    struct Places {
        std::string backup_dir;               // where B and Export write
        std::vector<std::string> backups;     // this guest's backup folders, newest first
        std::vector<std::string> destinations; // libvirt URIs of other hosts
        // Names in use, for the restored guest's and the exported file's names.
        std::vector<std::string> guest_names;
        std::vector<guestview::usb::UsbDevice> usb_devices; // plugged in now
    };
    // Enter on a USB row: what the guest is to remember of that device (its port).
    struct UsbChange {
        std::string device;
        UsbRemember what = UsbRemember::Always;
        bool operator==(const UsbChange&) const = default;
    };

    GuestCard(const guestview::GuestInfo& guest, Places places);
    // The guest's snapshots changed (a job ended): the rows follow, the selection stays on its row.
    void update(const guestview::GuestInfo& guest);

    const std::string& guest() const { return guest_; }
    const std::vector<Row>& rows() const { return rows_; }
    std::size_t selection() const { return selection_; }
    void move(int direction);
    // Enter: the job for the selected row.
    std::optional<guestview::JobRequest> enter() const;
    // Enter on a USB row: ask -> always -> never -> ask.
    std::optional<UsbChange> usb_enter() const;
    // R on a snapshot row: the first press arms, a second within 4 s deletes.
    std::optional<guestview::JobRequest> remove(Clock::time_point now);
    const std::string& pending_delete() const { return pending_delete_; }

    // "5 Dec 14:03" in local time.
    static std::string when(std::int64_t unix_seconds);

private:
    void rebuild(const guestview::GuestInfo& guest);
    static const guestview::usb::UsbChoice* remembered(const guestview::GuestInfo& guest,
                                                       const guestview::usb::UsbDevice& device);

    std::string guest_;
    bool running_ = false;
    Places places_;
    std::string export_file_;
    std::vector<Row> rows_;
    std::size_t selection_ = 0;
    std::string pending_delete_;
    Clock::time_point pending_since_{};
};

} // namespace phyllome::compositor
