// Which console is a guest's head N (guestview/display/head_order.hpp).
#include <gtest/gtest.h>

#include "guestview/display/head_order.hpp"

namespace phyllome::guestview {
namespace {

ConsoleInfo console(std::uint32_t id, std::string label, std::uint32_t head, std::string address,
                    std::string type = "Graphic") {
    ConsoleInfo c;
    c.id = id;
    c.label = std::move(label);
    c.head = head;
    c.device_address = std::move(address);
    c.type = std::move(type);
    return c;
}

using Ids = std::vector<std::uint32_t>;

TEST(HeadOrder, VirtioGpuHeadsInHeadOrder) {
    EXPECT_EQ(order_heads({console(0, "virtio-gpu-pci", 0, "pci/0000/01.0"),
                           console(1, "virtio-gpu-pci.1", 1, "pci/0000/01.0")}),
              (Ids{0, 1}));
    // Listed out of order: Head decides, not the id.
    EXPECT_EQ(order_heads({console(4, "virtio-gpu-pci.1", 1, "pci/0000/01.0"),
                           console(7, "virtio-gpu-pci", 0, "pci/0000/01.0")}),
              (Ids{7, 4}));
}

TEST(HeadOrder, AVgaBesideVirtioGpuComesAfterTheVirtioHeads) {
    // -device VGA -device virtio-gpu-pci,max_outputs=2 (doc §1.3): VGA is console 0 with Head 0
    // too; sorting by Head and id would make it head 0 and push virtio's head 1 to head 2.
    EXPECT_EQ(order_heads({console(0, "VGA", 0, "pci/0000/02.0"), console(1, "virtio-gpu-pci.0", 0, "pci/0000/01.0"),
                           console(2, "virtio-gpu-pci.1", 1, "pci/0000/01.0")}),
              (Ids{1, 2, 0}));
}

TEST(HeadOrder, WithoutVirtioTheFirstDeviceLeads) {
    EXPECT_EQ(order_heads({console(0, "VGA", 0, "pci/0000/02.0")}), (Ids{0}));
    EXPECT_EQ(order_heads({console(3, "qxl-vga", 0, "pci/0000/03.0"), console(1, "VGA", 0, "pci/0000/02.0")}),
              (Ids{1, 3}));
}

TEST(HeadOrder, WithoutDeviceAddressTheLabelTellsTheDevice) {
    EXPECT_EQ(order_heads({console(0, "VGA", 0, ""), console(1, "virtio-vga.1", 1, ""), console(2, "virtio-vga", 0, "")}),
              (Ids{2, 1, 0}));
}

TEST(HeadOrder, TextConsolesAreNotHeads) {
    EXPECT_EQ(order_heads({console(0, "serial0", 0, "", "Text"), console(1, "virtio-gpu-pci", 0, "pci/0000/01.0")}),
              (Ids{1}));
    EXPECT_TRUE(order_heads({}).empty());
}

} // namespace
} // namespace phyllome::guestview
