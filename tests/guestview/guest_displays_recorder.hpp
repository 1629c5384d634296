// Records what GuestDisplays reports, as the compositor would receive it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "guestview/guest_displays.hpp"

namespace phyllome::guestview::testing {

struct RecordedFrame {
    std::string guest;
    std::uint32_t console = 0;
    FrameEvent event;
};

struct DisplayRecorder {
    std::vector<std::string> attached;
    std::vector<std::pair<std::string, ConsoleInfo>> consoles;
    std::vector<RecordedFrame> frames;
    std::vector<std::pair<std::string, std::string>> detached; // guest, reason
    // Every event in order, e.g. "attached desk", "console desk 0", "frame desk 0", "detached desk".
    std::vector<std::string> log;

    GuestDisplays::Events events() {
        return GuestDisplays::Events{
            [this](const std::string& guest) {
                attached.push_back(guest);
                log.push_back("attached " + guest);
            },
            [this](const std::string& guest, const ConsoleInfo& info) {
                consoles.emplace_back(guest, info);
                log.push_back("console " + guest + " " + std::to_string(info.id));
            },
            [this](const std::string& guest, std::uint32_t console, const FrameEvent& event) {
                frames.push_back({guest, console, event});
                log.push_back("frame " + guest + " " + std::to_string(console));
            },
            [this](const std::string& guest, std::uint32_t console) {
                log.push_back("off " + guest + " " + std::to_string(console));
            },
            [this](const std::string& guest, std::uint32_t console, const CursorShape&) {
                log.push_back("cursor " + guest + " " + std::to_string(console));
            },
            [this](const std::string& guest, std::uint32_t console, const PointerPosition&) {
                log.push_back("pointer " + guest + " " + std::to_string(console));
            },
            [this](const std::string& guest, const std::string& reason) {
                detached.emplace_back(guest, reason);
                log.push_back("detached " + guest);
            },
        };
    }
};

} // namespace phyllome::guestview::testing
