#include <gtest/gtest.h>

#include <linux/input-event-codes.h>
#include <wayland-server-core.h>

#include <chrono>
#include <memory>
#include <vector>

#include "compositor/key_repeater.hpp"
#include "compositor/keysym_to_evdev.hpp"

namespace phyllome::compositor {
namespace {

struct KeymapDeleter {
    void operator()(xkb_keymap* k) const { xkb_keymap_unref(k); }
};

std::unique_ptr<xkb_keymap, KeymapDeleter> keymap(const char* layout) {
    xkb_context* ctx = xkb_context_new(XKB_CONTEXT_NO_FLAGS);
    xkb_rule_names names{};
    names.layout = layout;
    xkb_keymap* k = xkb_keymap_new_from_names(ctx, &names, XKB_KEYMAP_COMPILE_NO_FLAGS);
    xkb_context_unref(ctx);
    return std::unique_ptr<xkb_keymap, KeymapDeleter>(k);
}

TEST(KeysymToEvdev, FindsThePhysicalKeyOnTheUsersLayout) {
    auto us = keymap("us");
    ASSERT_TRUE(us);
    KeysymToEvdev map(us.get());
    EXPECT_EQ(map.find(XKB_KEY_a)->evdev, static_cast<std::uint32_t>(KEY_A));
    EXPECT_FALSE(map.find(XKB_KEY_a)->shift);
    EXPECT_EQ(map.find(XKB_KEY_A)->evdev, static_cast<std::uint32_t>(KEY_A));
    EXPECT_TRUE(map.find(XKB_KEY_A)->shift);
    EXPECT_EQ(map.find(XKB_KEY_Return)->evdev, static_cast<std::uint32_t>(KEY_ENTER));
    EXPECT_EQ(map.find(XKB_KEY_exclam)->evdev, static_cast<std::uint32_t>(KEY_1));
    EXPECT_FALSE(map.find(XKB_KEY_Hangul_Jeonja).has_value());

    auto fr = keymap("fr");
    ASSERT_TRUE(fr);
    KeysymToEvdev azerty(fr.get());
    EXPECT_EQ(azerty.find(XKB_KEY_a)->evdev, static_cast<std::uint32_t>(KEY_Q)) << "AZERTY puts 'a' where QWERTY has 'q'";
}

struct LoopDeleter {
    void operator()(wl_event_loop* l) const { wl_event_loop_destroy(l); }
};

TEST(KeyRepeater, RepeatsAfterTheDelayAtTheRateUntilReleased) {
    std::unique_ptr<wl_event_loop, LoopDeleter> loop(wl_event_loop_create());
    std::vector<std::uint32_t> sent;
    KeyRepeater repeater(loop.get(), [&](std::uint32_t k) { sent.push_back(k); });
    repeater.set_rate(100, 50); // every 10 ms after 50 ms
    repeater.pressed(KEY_A);
    const auto start = std::chrono::steady_clock::now();
    while (sent.size() < 3 && std::chrono::steady_clock::now() - start < std::chrono::seconds(5))
        wl_event_loop_dispatch(loop.get(), 100);
    ASSERT_GE(sent.size(), 3u);
    EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(50)) << "no repeat before the delay";
    EXPECT_EQ(sent.front(), static_cast<std::uint32_t>(KEY_A));
    repeater.released(KEY_B); // another key's release changes nothing
    EXPECT_TRUE(repeater.active());
    repeater.released(KEY_A);
    EXPECT_FALSE(repeater.active());
    const std::size_t after = sent.size();
    wl_event_loop_dispatch(loop.get(), 80);
    EXPECT_EQ(sent.size(), after);

    repeater.set_rate(0, 50); // repeat disabled in the config
    repeater.pressed(KEY_A);
    EXPECT_FALSE(repeater.active());
}

} // namespace
} // namespace phyllome::compositor
