// How the host's USB devices are written for people and programs: `phyllomectl usb`, its
// --json, and the "usb" of status --json.
#pragma once

#include <string>
#include <vector>

#include "guestview/usb/usb_device.hpp"

namespace phyllome::compositor {

struct UsbEntry {
    guestview::usb::UsbDevice device;
    std::string owner;    // the guest that has it (or is being given it); empty: the host
    std::string busy;     // "giving", "taking back", or empty
    std::string policy;   // "always win11", "never", "ask first", or empty
    bool offered = false; // Host+U acts on it
    bool operator==(const UsbEntry&) const = default;
};

// [{"device": "1-2", "id": "0781:5581", "serial": ..., "name": "SanDisk Ultra", "kinds": ["storage"],
//   "bus": 1, "address": 5, "owner": "win11" | null, "busy": ..., "policy": ..., "offered": true}]
std::string usb_json(const std::vector<UsbEntry>& entries);
// One line each: "1-2  0781:5581  SanDisk Ultra (storage)  win11  always win11"; a line saying
// there are none, or why they cannot be watched.
std::string usb_text(const std::vector<UsbEntry>& entries, const std::string& problem);

} // namespace phyllome::compositor
