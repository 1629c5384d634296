#include "guestview/display/head_order.hpp"

#include <algorithm>
#include <map>
#include <string>
#include <string_view>

namespace phyllome::guestview {
namespace {

// The device a console belongs to: its DeviceAddress, else its label without the ".N" QEMU
// appends per head ("virtio-gpu-pci.1").
std::string device_of(const ConsoleInfo& c) {
    if (!c.device_address.empty())
        return c.device_address;
    const auto dot = c.label.rfind('.');
    if (dot != std::string::npos && dot + 1 < c.label.size() &&
        std::all_of(c.label.begin() + static_cast<std::ptrdiff_t>(dot + 1), c.label.end(),
                    [](char ch) { return ch >= '0' && ch <= '9'; }))
        return c.label.substr(0, dot);
    return c.label;
}

// The virtio-gpu family: virtio-gpu(-gl)-pci, virtio-vga(-gl), vhost-user-gpu/vga.
bool virtio_gpu(const ConsoleInfo& c) {
    const std::string_view label = c.label;
    return label.starts_with("virtio-gpu") || label.starts_with("virtio-vga") || label.starts_with("vhost-user-gpu") ||
           label.starts_with("vhost-user-vga");
}

} // namespace

std::vector<std::uint32_t> order_heads(const std::vector<ConsoleInfo>& consoles) {
    std::vector<const ConsoleInfo*> graphic;
    for (const ConsoleInfo& c : consoles)
        if (c.graphic())
            graphic.push_back(&c);
    std::ranges::sort(graphic, {}, &ConsoleInfo::id);
    if (graphic.empty())
        return {};
    // The main device: the first virtio-gpu one, else the first device there is.
    const auto main_it = std::ranges::find_if(graphic, [](const ConsoleInfo* c) { return virtio_gpu(*c); });
    const std::string main_device = device_of(**(main_it != graphic.end() ? main_it : graphic.begin()));
    std::vector<const ConsoleInfo*> main, others;
    for (const ConsoleInfo* c : graphic)
        (device_of(*c) == main_device ? main : others).push_back(c);
    std::ranges::stable_sort(main, {}, &ConsoleInfo::head);
    std::vector<std::uint32_t> ids;
    for (const auto* list : {&main, &others})
        for (const ConsoleInfo* c : *list)
            ids.push_back(c->id);
    return ids;
}

} // namespace phyllome::guestview
