#include <gtest/gtest.h>
#include <linux/input-event-codes.h>

#include "guestview/input/evdev_to_qnum.hpp"

namespace phyllome::guestview {
namespace {

struct Sample {
    std::uint32_t evdev;
    std::uint32_t qnum;
};

// docs/qemu-dbus-display.md §4.1, generated there with keycodemapdb's own keymap-gen.
TEST(Keymap, MatchesKeycodemapdbSamples) {
    const Sample samples[] = {
        {KEY_ESC, 0x01},      {KEY_A, 0x1e},         {KEY_LEFTCTRL, 0x1d}, {KEY_RIGHTCTRL, 0x9d},
        {KEY_RIGHTALT, 0xb8}, {KEY_LEFTMETA, 0xdb},  {KEY_RIGHTMETA, 0xdc}, {KEY_COMPOSE, 0xdd},
        {KEY_KPENTER, 0x9c},  {KEY_KPSLASH, 0xb5},   {KEY_UP, 0xc8},       {KEY_DELETE, 0xd3},
        {KEY_SYSRQ, 0x54},    {KEY_PAUSE, 0xc6},     {KEY_102ND, 0x56},    {KEY_F13, 0x5d},
        {KEY_ENTER, 0x1c},    {KEY_HANGEUL, 0x72},   {KEY_HANJA, 0x71},
    };
    for (const auto& sample : samples) {
        auto qnum = evdev_to_qnum(sample.evdev);
        ASSERT_TRUE(qnum.has_value()) << "evdev " << sample.evdev;
        EXPECT_EQ(*qnum, sample.qnum) << "evdev " << sample.evdev;
    }
}

TEST(Keymap, UnknownKeysHaveNoQnum) {
    EXPECT_FALSE(evdev_to_qnum(KEY_RESERVED).has_value());
    EXPECT_FALSE(evdev_to_qnum(static_cast<std::uint32_t>(evdev_to_qnum_table_size())).has_value());
    EXPECT_FALSE(evdev_to_qnum(0xffffffffu).has_value());
}

TEST(Keymap, CoversEveryKeyKeycodemapdbKnows) {
    std::size_t mapped = 0;
    for (std::uint32_t code = 0; code < evdev_to_qnum_table_size(); ++code) {
        if (auto qnum = evdev_to_qnum(code)) {
            ++mapped;
            EXPECT_LT(*qnum, 0x100u) << "evdev " << code;
        }
    }
    // keycodemapdb 22b8996 has a set-1 code for 236 Linux keys.
    EXPECT_EQ(mapped, 236u);
}

} // namespace
} // namespace phyllome::guestview
