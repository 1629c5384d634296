#include <gtest/gtest.h>

#include "compositor/guest_placement.hpp"

namespace phyllome::compositor {
namespace {

TEST(GuestPlacement, SameSizeIsOneToOne) {
    Placement p = place_frame(0, 0, 1280, 800, 1.0, 1280, 800);
    EXPECT_DOUBLE_EQ(p.scale, 1.0);
    EXPECT_DOUBLE_EQ(p.x, 0);
    EXPECT_DOUBLE_EQ(p.width, 1280);
    auto box = p.to_output_pixels(10, 20, 30, 40, 0, 0, 1.0);
    EXPECT_EQ(box.x, 10);
    EXPECT_EQ(box.y, 20);
    EXPECT_EQ(box.width, 30);
    EXPECT_EQ(box.height, 40);
}

TEST(GuestPlacement, SmallerFrameIsScaledUpAndLetterboxed) {
    // 640x480 (4:3) on 1280x800 (16:10): height-limited, bars left and right.
    Placement p = place_frame(0, 0, 1280, 800, 1.0, 640, 480);
    EXPECT_NEAR(p.scale, 800.0 / 480, 1e-9);
    EXPECT_NEAR(p.height, 800, 1e-9);
    EXPECT_NEAR(p.width, 1066.67, 0.01);
    EXPECT_NEAR(p.x, 106, 1e-9);
    EXPECT_DOUBLE_EQ(p.y, 0);
    EXPECT_FALSE(p.to_guest(50, 400).has_value()) << "in the left bar";
    auto g = p.to_guest(106 + 1066.67 / 2, 400);
    ASSERT_TRUE(g.has_value());
    EXPECT_NEAR(g->first, 320, 0.01);
    EXPECT_NEAR(g->second, 240, 0.01);
    // Scaled damage grows by a pixel on each side for the filter.
    auto box = p.to_output_pixels(0, 0, 6, 6, 0, 0, 1.0);
    EXPECT_EQ(box.x, 105);
    EXPECT_EQ(box.width, 12);
}

TEST(GuestPlacement, LargerFrameIsScaledDownAndPlacedOnItsOutput) {
    // 1920x1080 on a second output at x=1280 of 1280x800.
    Placement p = place_frame(1280, 0, 1280, 800, 1.0, 1920, 1080);
    EXPECT_NEAR(p.scale, 1280.0 / 1920, 1e-9);
    EXPECT_DOUBLE_EQ(p.x, 1280);
    EXPECT_NEAR(p.y, 40, 1e-9);
    auto box = p.to_output_pixels(0, 0, 1920, 1080, 1280, 0, 1.0);
    EXPECT_EQ(box.x, -1);
    EXPECT_EQ(box.y, 39);
}

TEST(GuestPlacement, HiDpiOutputMatchingThePhysicalSizeIsOneToOne) {
    // A 2560x1600 panel at scale 2 is 1280x800 logical: a 2560x1600 guest maps pixel for pixel.
    Placement p = place_frame(0, 0, 1280, 800, 2.0, 2560, 1600);
    EXPECT_DOUBLE_EQ(p.scale, 0.5);
    auto box = p.to_output_pixels(100, 100, 10, 10, 0, 0, 2.0);
    EXPECT_EQ(box.x, 100);
    EXPECT_EQ(box.width, 10);
}

TEST(GuestPlacement, DegenerateSizesPlaceNothing) {
    Placement p = place_frame(0, 0, 1280, 800, 1.0, 0, 0);
    EXPECT_DOUBLE_EQ(p.width, 0);
    EXPECT_FALSE(p.to_guest(10, 10).has_value());
}

} // namespace
} // namespace phyllome::compositor
