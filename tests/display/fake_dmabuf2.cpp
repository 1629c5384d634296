#include "tests/display/fake_dmabuf2.hpp"

#include <algorithm>
#include <utility>

namespace phyllome::guestview::testing {

Dmabuf2Scanout planes_scanout(std::vector<int> fds, std::vector<std::uint32_t> offsets,
                              std::vector<std::uint32_t> strides, std::uint32_t width, std::uint32_t height,
                              std::uint32_t fourcc, std::uint64_t modifier) {
    Dmabuf2Scanout s;
    s.num_planes = static_cast<std::uint32_t>(fds.size());
    s.fds = std::move(fds);
    s.offsets = std::move(offsets);
    s.strides = std::move(strides);
    s.width = s.backing_width = width;
    s.height = s.backing_height = height;
    s.fourcc = fourcc;
    s.modifier = modifier;
    return s;
}

int send_scanout_dmabuf2_raw(FakeQemuDisplay& fake, std::uint32_t console, const Dmabuf2Scanout& s) {
    return fake.send_raw(console, dmabuf2_interface, "ScanoutDMABUF2", [&](sd_bus_message* m) {
        int r = sd_bus_message_open_container(m, 'a', "h");
        for (std::size_t i = 0; r >= 0 && i < s.fds.size(); ++i)
            r = sd_bus_message_append_basic(m, 'h', &s.fds[i]);
        if (r >= 0)
            r = sd_bus_message_close_container(m);
        if (r >= 0)
            r = sd_bus_message_append(m, "uuuu", s.x, s.y, s.width, s.height);
        if (r >= 0)
            r = sd_bus_message_append_array(m, 'u', s.offsets.data(), s.offsets.size() * sizeof(std::uint32_t));
        if (r >= 0)
            r = sd_bus_message_append_array(m, 'u', s.strides.data(), s.strides.size() * sizeof(std::uint32_t));
        if (r >= 0)
            r = sd_bus_message_append(m, "uuuutb", s.num_planes, s.fourcc, s.backing_width, s.backing_height,
                                      s.modifier, int{s.y0_top});
        return r;
    });
}

DmabufSent send_scanout_dmabuf2(FakeQemuDisplay& fake, std::uint32_t console, const Dmabuf2Scanout& s) {
    const auto& interfaces = fake.probe(console).interfaces;
    if (std::ranges::find(interfaces, dmabuf2_interface) != interfaces.end()) {
        send_scanout_dmabuf2_raw(fake, console, s);
        return DmabufSent::Version2;
    }
    if (s.num_planes != 1 || s.fds.empty() || s.strides.empty())
        return DmabufSent::Nothing; // QEMU: g_debug "does not support mutli plane"
    fake.scanout_dmabuf(console, s.fds[0], s.width, s.height, s.strides[0], s.fourcc, s.modifier, s.y0_top);
    return DmabufSent::Version1;
}

} // namespace phyllome::guestview::testing
