// ScanoutDMABUF2 (QEMU 10.1, org.qemu.Display1.Listener.Unix.ScanoutDMABUF2) from the fake
// QEMU display. Kept apart from fake_qemu_display.cpp (at its size limit) and built only
// where used; it needs nothing but FakeQemuDisplay's public interface.
#pragma once

#include <cstdint>
#include <vector>

#include "tests/display/fake_qemu_display.hpp"

namespace phyllome::guestview::testing {

inline constexpr const char* dmabuf2_interface = "org.qemu.Display1.Listener.Unix.ScanoutDMABUF2";

// The message's arguments as they go on the wire. Nothing ties num_planes to the arrays, so a
// test can build every inconsistency a peer could send.
struct Dmabuf2Scanout {
    std::vector<int> fds; // borrowed: sd-bus sends duplicates
    std::uint32_t x = 0;  // visible sub-rectangle of the backing buffer
    std::uint32_t y = 0;
    std::uint32_t width = 0;
    std::uint32_t height = 0;
    std::vector<std::uint32_t> offsets;
    std::vector<std::uint32_t> strides;
    std::uint32_t num_planes = 0;
    std::uint32_t fourcc = 0;
    std::uint32_t backing_width = 0;
    std::uint32_t backing_height = 0;
    std::uint64_t modifier = 0;
    bool y0_top = false;
};

// A consistent single- or multi-plane scanout: one fd per plane, the whole buffer visible
// unless the caller changes x/y/width/height afterwards.
Dmabuf2Scanout planes_scanout(std::vector<int> fds, std::vector<std::uint32_t> offsets,
                              std::vector<std::uint32_t> strides, std::uint32_t width, std::uint32_t height,
                              std::uint32_t fourcc, std::uint64_t modifier);

enum class DmabufSent { Version2, Version1, Nothing };

// What QEMU 10.1 does with a dmabuf scanout (dbus-listener.c): ScanoutDMABUF2 when the client's
// Interfaces (read once at registration) lists the interface; otherwise ScanoutDMABUF v1 with
// the visible size and plane 0 (offset and sub-rectangle origin lost) for one plane, and
// nothing at all for several.
DmabufSent send_scanout_dmabuf2(FakeQemuDisplay& fake, std::uint32_t console, const Dmabuf2Scanout& scanout);

// ScanoutDMABUF2 exactly as given, whatever the client advertised: for malformed messages.
// Negative errno when sd-bus would not build or send it.
int send_scanout_dmabuf2_raw(FakeQemuDisplay& fake, std::uint32_t console, const Dmabuf2Scanout& scanout);

} // namespace phyllome::guestview::testing
